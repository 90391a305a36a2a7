using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// The managed identity endpoint App Service and Azure Functions give an app (learn.microsoft.com, "How to use managed
/// identities for App Service and Azure Functions", REST protocol 2019-08-01): the platform sets
/// <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>; <c>GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&amp;resource=…[&amp;client_id=…]</c>
/// with header <c>X-IDENTITY-HEADER</c> → <c>{"access_token", "expires_on", "resource", "token_type", "client_id"}</c>;
/// 400 without the header or for an unknown client id. Azure.Identity's ManagedIdentityCredential talks to it as it does in Azure.
/// </summary>
public sealed class FakeManagedIdentity(string clientId) : FakeApi
{
    public string Header { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The token it issues for a resource (one per resource, so a test can check the audience).</summary>
    public static string TokenFor(string resource) => $"mi-token-for-{new Uri(resource).Host}";

    /// <summary>The environment a host gets from the platform.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["IDENTITY_ENDPOINT"] = new Uri(BaseUrl, "msi/token").ToString(),
        ["IDENTITY_HEADER"] = Header,
    };

    public int TokensIssued => Calls("GET", "/msi/token");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        var query = context.Request.Query;
        if (request.Header("X-IDENTITY-HEADER") != Header || query["api-version"] != "2019-08-01" || string.IsNullOrEmpty(query["resource"]))
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { statusCode = 400, message = "Required metadata header not specified or not correct" });
            return;
        }
        if (query.ContainsKey("client_id") && query["client_id"] != clientId)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { statusCode = 400, message = "No managed identity found for specified ClientId" });
            return;
        }
        var resource = query["resource"].ToString();
        await context.Response.WriteAsJsonAsync(new
        {
            access_token = TokenFor(resource),
            expires_on = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
            resource,
            token_type = "Bearer",
            client_id = clientId,
        });
    }
}
