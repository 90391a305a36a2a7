using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Identity;

namespace DbtRelay.Targets;

/// <summary>
/// Refreshes a Power BI semantic model: <c>POST {baseUrl}/v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes</c>
/// with an Entra ID token for Power BI (the app's managed identity, or <c>managedIdentityClientId</c>) → 202 with the
/// refresh's <c>RequestId</c> header; followed with <c>GET …/refreshes?$top=10</c> (the entry with that
/// <c>requestId</c>: <c>status</c> Unknown while running, Completed, Failed, Cancelled, Disabled).
/// </summary>
public sealed class PowerBiRefreshTarget(string name, TimeSpan timeout, Uri datasetUrl, string? managedIdentityClientId, FollowSettings? follow) : IFollowedTarget
{
    public const string TypeName = "powerbi-refresh";

    /// <summary>The token audience of the Power BI REST API.</summary>
    public const string Scope = "https://analysis.windows.net/powerbi/api/.default";

    /// <summary>How long a refresh already running is given before the relay asks again.</summary>
    public static readonly TimeSpan RefreshInProgressWait = TimeSpan.FromMinutes(5);

    private static readonly Uri DefaultBaseUrl = new("https://api.powerbi.com/");

    private readonly TokenCredential? _ownIdentity = managedIdentityClientId is null
        ? null
        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId));

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [];
    public FollowSettings? Follow => follow;

    /// <summary>What <c>dbt-relay init --target powerbi-refresh</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "powerbi-refresh", ["groupId"] = "00000000-0000-0000-0000-000000000000", ["datasetId"] = "00000000-0000-0000-0000-000000000000",
        ["follow"] = new JsonObject { ["every"] = "30s", ["maxWait"] = "6h" },
        ["description"] = "Refreshes a Power BI semantic model and follows the refresh to its end. groupId and datasetId: from the model's URL; signs in with the app's Azure identity (az login for serve).",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, .. FollowSettings.Properties, "groupId", "datasetId", "managedIdentityClientId", "baseUrl"]);
        var groupId = Id(node["groupId"], "workspace (group) id");
        var datasetId = Id(node["datasetId"], "semantic model (dataset) id");
        var clientId = node["managedIdentityClientId"].Exists ? Id(node["managedIdentityClientId"], "managed identity client id") : null;
        var baseUrl = node["baseUrl"].Exists ? node["baseUrl"].Url(required: true) : DefaultBaseUrl;
        var follow = FollowSettings.Read(node);
        if (groupId is null || datasetId is null || baseUrl is null || (node["managedIdentityClientId"].Exists && clientId is null)) return null;
        var url = new Uri($"{baseUrl.AbsoluteUri.TrimEnd('/')}/v1.0/myorg/groups/{groupId}/datasets/{datasetId}/");
        return new PowerBiRefreshTarget(definition.Name, definition.Timeout, url, clientId, follow);
    }

    private static string? Id(Config.Nodes.ConfigNode node, string what)
    {
        var text = node.Text(required: true);
        if (text is null) return null;
        if (Guid.TryParse(text, out var id)) return id.ToString("D");
        node.Error($"'{text}' is not a {what} (a GUID, as in the item's URL in Power BI)");
        return null;
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        if (await AuthorizeAsync(call, cancellationToken).ConfigureAwait(false) is not { } authorization) return NoToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(datasetUrl, "refreshes"))
        {
            // A service principal may only ask for no e-mail notification.
            Content = new StringContent("""{"notifyOption":"NoNotification"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = authorization;
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            var requestId = Header(response, "RequestId") ?? Header(response, "x-ms-request-id");
            return new CallAccepted($"Power BI accepted the refresh (request {requestId ?? "id not returned"})") { HttpStatus = code, DownstreamId = requestId };
        }
        if (response.StatusCode == HttpStatusCode.BadRequest)
        {
            var message = await ErrorMessageAsync(response, cancellationToken).ConfigureAwait(false);
            if (message.Contains("already executing", StringComparison.OrdinalIgnoreCase) || message.Contains("in progress", StringComparison.OrdinalIgnoreCase))
            {
                return new RetryLater($"Power BI answered 400: a refresh of this semantic model is already running; refreshing again after it ({message})", RefreshInProgressWait)
                    { HttpStatus = code };
            }
            if (message.Contains("exceeded limit", StringComparison.OrdinalIgnoreCase) || message.Contains("24 hours", StringComparison.OrdinalIgnoreCase))
            {
                return new Failed($"Power BI answered 400: the limit on refreshes in 24 hours is reached (8 a day on shared capacity); not retried: replay the dead letter when the window allows ({message})")
                    { HttpStatus = code };
            }
            return new Failed($"Power BI answered 400: {message}") { HttpStatus = code };
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new Failed("Power BI answered 404: no semantic model with that datasetId in that workspace, or the identity is not a member of the workspace") { HttpStatus = code };
        }
        var outcome = HttpOutcomes.Classify(response, "Power BI", call.Time.GetUtcNow());
        return outcome is Failed { CredentialsRejected: true }
            ? new Failed($"{outcome.Detail}: add the app's identity to the workspace (Member or Contributor) and allow service principals to use Power BI APIs in the tenant settings")
                { HttpStatus = code }
            : outcome;
    }

    public async Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken)
    {
        if (await AuthorizeAsync(call, cancellationToken).ConfigureAwait(false) is not { } authorization) return NoToken;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(datasetUrl, "refreshes?$top=10"));
        request.Headers.Authorization = authorization;
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var outcome = await StatusAnswer.ReadAsync(response, "Power BI (refresh history)", call.Time.GetUtcNow(), body => ReadRefresh(body, runId), cancellationToken)
            .ConfigureAwait(false);
        // Not among the latest entries yet (or no longer): a status failure that backs off, never a guess.
        return outcome is RetryLater { HttpStatus: 200 } ? new RetryLater($"Power BI's latest refreshes do not list request {runId}") { HttpStatus = 200 } : outcome;
    }

    private static DownstreamRun? ReadRefresh(JsonElement body, string runId)
    {
        var refreshes = StatusAnswer.Get(body, "value");
        if (refreshes.ValueKind != JsonValueKind.Array) return null;
        var refresh = refreshes.EnumerateArray().FirstOrDefault(r => string.Equals(StatusAnswer.Text(StatusAnswer.Get(r, "requestId")), runId, StringComparison.OrdinalIgnoreCase));
        if (StatusAnswer.Text(StatusAnswer.Get(refresh, "status")) is not { } status) return null;
        var state = status switch
        {
            "Completed" => DownstreamStates.Succeeded,
            "Failed" => DownstreamStates.Failed,
            "Disabled" => DownstreamStates.Failed,
            "Cancelled" => DownstreamStates.Cancelled,
            _ => DownstreamStates.Running, // Unknown (in progress), NotStarted
        };
        return new DownstreamRun(runId, state)
        {
            VendorStatus = status,
            StartedAt = StatusAnswer.Time(StatusAnswer.Get(refresh, "startTime")),
            FinishedAt = StatusAnswer.Time(StatusAnswer.Get(refresh, "endTime")),
            Error = status == "Disabled" ? "refresh is disabled for this semantic model" : ServiceException(StatusAnswer.Get(refresh, "serviceExceptionJson")),
        };
    }

    /// <summary><c>serviceExceptionJson</c> is JSON in a string: its error code and description, or the text as sent.</summary>
    private static string? ServiceException(JsonElement element)
    {
        if (StatusAnswer.Text(element) is not { } text) return null;
        try
        {
            using var json = JsonDocument.Parse(text);
            var codeText = StatusAnswer.Text(StatusAnswer.Get(json.RootElement, "errorCode"));
            var description = StatusAnswer.Text(StatusAnswer.Get(json.RootElement, "errorDescription"));
            return codeText is null && description is null ? text : $"{codeText}{(codeText is not null && description is not null ? ": " : "")}{description}";
        }
        catch (JsonException)
        {
            return text;
        }
    }

    private static readonly RetryLater NoToken = new("could not get an Entra ID token for Power BI from the app's identity");

    /// <summary>The bearer token of the configured identity; null when the identity endpoint cannot give one now.</summary>
    private async Task<AuthenticationHeaderValue?> AuthorizeAsync(TargetCall call, CancellationToken cancellationToken)
    {
        var credential = _ownIdentity ?? call.Credential;
        if (credential is null) return null;
        try
        {
            var token = await credential.GetTokenAsync(new TokenRequestContext([Scope]), cancellationToken).ConfigureAwait(false);
            return new AuthenticationHeaderValue("Bearer", token.Token);
        }
        catch (AuthenticationFailedException)
        {
            // The exception text can be long and name endpoints; the outcome says what failed, the log has no token.
            return null;
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && values.FirstOrDefault() is { Length: > 0 } value ? value : null;

    private static async Task<string> ErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var json = await HttpOutcomes.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        var error = json is null ? default : StatusAnswer.Get(json.RootElement, "error");
        var message = StatusAnswer.Text(StatusAnswer.Get(error, "message")) ?? StatusAnswer.Text(StatusAnswer.Get(error, "code")) ?? "no error message";
        return StatusAnswer.OneLine(message, StatusAnswer.MaxErrorLength) ?? "no error message";
    }
}
