using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// Starts a RudderStack Reverse ETL sync: <c>POST {baseUrl}/retl-connections/{connectionId}/start</c> with a bearer
/// token and <c>{"syncType": "incremental"|"full"}</c>. A 409 means a sync is already running. The sync is followed
/// with <c>GET {baseUrl}/retl-connections/{connectionId}/syncs/{syncId}</c> (status running, succeeded or failed).
/// </summary>
public sealed class RudderStackRetlTarget(string name, TimeSpan timeout, Uri connectionUrl, string syncType, string tokenSecret, bool skipOnConflict, FollowSettings? follow)
    : IFollowedTarget
{
    private readonly Uri _startUrl = new(connectionUrl, "start");

    public const string TypeName = "rudderstack-retl";
    private static readonly Uri DefaultBaseUrl = new("https://api.rudderstack.com/v2/");

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [tokenSecret];
    public FollowSettings? Follow => follow;

    /// <summary>What <c>dbt-relay init --target rudderstack-retl</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "rudderstack-retl", ["connectionId"] = "YOUR_REVERSE_ETL_CONNECTION_ID", ["syncType"] = "incremental",
        ["token"] = "rudderstack-token",
        ["follow"] = new JsonObject { ["every"] = "30s", ["maxWait"] = "6h" },
        ["description"] = "Starts a RudderStack Reverse ETL sync and follows it to its end. connectionId: the connection's id in RudderStack; token: the secret name of a workspace access token; onFailure: targets to call if the sync does not succeed.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, .. FollowSettings.Properties, "connectionId", "syncType", "token", "baseUrl", "onConflict"]);
        var connection = node["connectionId"].Text(required: true);
        var syncType = node["syncType"].OneOf(required: false, "incremental", "incremental", "full");
        var token = node["token"].SecretName(required: true);
        var baseUrl = node["baseUrl"].Exists ? node["baseUrl"].Url(required: true) : DefaultBaseUrl;
        var onConflict = node["onConflict"].OneOf(required: false, "retry", "retry", "skip");
        var follow = FollowSettings.Read(node);
        if (connection is null || syncType is null || token is null || baseUrl is null || onConflict is null) return null;

        var root = baseUrl.AbsoluteUri.EndsWith('/') ? baseUrl : new Uri(baseUrl.AbsoluteUri + "/");
        var connectionUrl = new Uri(root, $"retl-connections/{Uri.EscapeDataString(connection)}/");
        return new RudderStackRetlTarget(definition.Name, definition.Timeout, connectionUrl, syncType, token, onConflict == "skip", follow);
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _startUrl)
        {
            // Buffered with a Content-Length, as RudderStack's examples send it: some gateways read a chunked body as empty.
            Content = new StringContent($$"""{"syncType":"{{syncType}}"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);

        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            return skipOnConflict
                ? await RunningSyncAsync(call, cancellationToken).ConfigureAwait(false)
                : new RetryLater("RudderStack answered 409: a sync is already running; starting one after it (onConflict: retry)") { HttpStatus = 409 };
        }
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return new Failed("RudderStack answered 404: no Reverse ETL connection with that connectionId") { HttpStatus = 404 };
        }
        var outcome = HttpOutcomes.Classify(response, "RudderStack", call.Time.GetUtcNow());
        if (outcome is not CallAccepted) return outcome;
        var syncId = await HttpOutcomes.ReadIdAsync(response, cancellationToken, "syncId").ConfigureAwait(false);
        return new CallAccepted($"syncId {syncId ?? "(not returned)"}") { HttpStatus = outcome.HttpStatus, DownstreamId = syncId };
    }

    /// <summary>
    /// onConflict skip: the sync already running stands for this event. When it is followed, the running sync is
    /// looked up (<c>GET …/syncs?status=running</c>) so that its end is the one recorded.
    /// </summary>
    private async Task<TargetOutcome> RunningSyncAsync(TargetCall call, CancellationToken cancellationToken)
    {
        const string skipped = "RudderStack answered 409: a sync is already running (onConflict: skip)";
        if (follow is null) return new CallAccepted(skipped) { HttpStatus = 409 };
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(connectionUrl, "syncs?status=running"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
            using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
            using var json = response.IsSuccessStatusCode ? await HttpOutcomes.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false) : null;
            var root = json?.RootElement ?? default;
            var list = root.ValueKind == JsonValueKind.Array ? root : StatusAnswer.Get(root, "data") is { ValueKind: JsonValueKind.Array } data ? data : StatusAnswer.Get(root, "syncs");
            var running = list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(sync => StatusAnswer.Text(StatusAnswer.Get(sync, "id"))).Where(id => id is not null).ToList()
                : [];
            return running is [var id]
                ? new CallAccepted($"{skipped}; following the running sync {id}") { HttpStatus = 409, DownstreamId = id }
                : new CallAccepted($"{skipped}; not followed: RudderStack's list of running syncs {(response.IsSuccessStatusCode ? $"named {running.Count}" : $"answered {(int)response.StatusCode}")}, not one")
                    { HttpStatus = 409 };
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            // The 409 settled it (skip: count it delivered); only the follow is lost, never a reason to start a sync.
            return new CallAccepted($"{skipped}; not followed: the list of running syncs did not answer ({ex.GetType().Name})") { HttpStatus = 409 };
        }
    }

    public async Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(connectionUrl, $"syncs/{Uri.EscapeDataString(runId)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await StatusAnswer.ReadAsync(response, "RudderStack (sync status)", call.Time.GetUtcNow(), sync => ReadSync(sync, runId), cancellationToken).ConfigureAwait(false);
    }

    private static DownstreamRun? ReadSync(JsonElement sync, string runId)
    {
        if (StatusAnswer.Text(StatusAnswer.Get(sync, "status")) is not { } status) return null;
        var state = status.ToLowerInvariant() switch
        {
            "succeeded" or "success" or "completed" => DownstreamStates.Succeeded,
            "failed" or "error" => DownstreamStates.Failed,
            "aborted" or "cancelled" or "canceled" or "stopped" => DownstreamStates.Cancelled,
            _ => DownstreamStates.Running,
        };
        var metrics = StatusAnswer.Get(sync, "metrics");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var name in (string[])["succeeded", "failed", "changed", "total"])
        {
            if (StatusAnswer.Count(StatusAnswer.Get(metrics, name)) is { } count) counts[name] = count;
        }
        return new DownstreamRun(runId, state)
        {
            VendorStatus = status,
            StartedAt = StatusAnswer.Time(StatusAnswer.Get(sync, "startedAt")),
            FinishedAt = StatusAnswer.Time(StatusAnswer.Get(sync, "finishedAt")),
            Counts = counts.Count > 0 ? counts : null,
            Error = StatusAnswer.ErrorText(StatusAnswer.Get(sync, "error")),
        };
    }
}
