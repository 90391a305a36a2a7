using System.Net.Http.Json;
using System.Text.Json;
using Azure.Core;

namespace DbtRelay.Tests.Fakes;

/// <summary>
/// The App Service managed identity protocol spoken to a <see cref="FakeManagedIdentity"/> over HTTP, for in-process
/// tests that cannot give the process IDENTITY_ENDPOINT (a process-wide variable). Host and serve tests set the
/// variable and use Azure.Identity's own ManagedIdentityCredential instead.
/// </summary>
internal sealed class IdentityEndpointCredential(FakeManagedIdentity identity) : TokenCredential
{
    private static readonly HttpClient Http = new();

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var resource = requestContext.Scopes.Single().Replace("/.default", "", StringComparison.Ordinal);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{identity.Environment["IDENTITY_ENDPOINT"]}?api-version=2019-08-01&resource={Uri.EscapeDataString(resource)}");
        request.Headers.Add("X-IDENTITY-HEADER", identity.Header);
        using var response = await Http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var token = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return new AccessToken(token.GetProperty("access_token").GetString()!,
            DateTimeOffset.FromUnixTimeSeconds(long.Parse(token.GetProperty("expires_on").GetString()!, System.Globalization.CultureInfo.InvariantCulture)));
    }
}
