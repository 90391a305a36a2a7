using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// Triggers a Hightouch sync: <c>POST {baseUrl}/api/v1/syncs/{syncId}/trigger</c> with a bearer API key and
/// <c>{"fullResync": false|true}</c> → <c>{"id": runId}</c>; the run is followed with
/// <c>GET {baseUrl}/api/v1/syncs/{syncId}/runs?runId={runId}</c> (<c>data[0].status</c>: queued, querying, processing,
/// reporting, success, warning, failed, cancelled, interrupted, abandoned).
/// </summary>
public sealed class HightouchTarget(string name, TimeSpan timeout, Uri syncUrl, bool fullResync, string tokenSecret, FollowSettings? follow) : IFollowedTarget
{
    public const string TypeName = "hightouch";
    private static readonly Uri DefaultBaseUrl = new("https://api.hightouch.com/");

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [tokenSecret];
    public FollowSettings? Follow => follow;

    /// <summary>What <c>dbt-relay init --target hightouch</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "hightouch", ["syncId"] = 1, ["token"] = "hightouch-api-key", ["fullResync"] = false,
        ["follow"] = new JsonObject { ["every"] = "30s", ["maxWait"] = "6h" },
        ["description"] = "Triggers a Hightouch sync and follows the run to its end. syncId: the number at the end of the sync's URL; token: the secret name of a workspace API key.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, .. FollowSettings.Properties, "syncId", "token", "fullResync", "baseUrl"]);
        var syncId = node["syncId"].Number(required: true, 1);
        var token = node["token"].SecretName(required: true);
        var fullResync = node["fullResync"].Bool() ?? false;
        var baseUrl = node["baseUrl"].Exists ? node["baseUrl"].Url(required: true) : DefaultBaseUrl;
        var follow = FollowSettings.Read(node);
        if (syncId is null || token is null || baseUrl is null) return null;
        var syncUrl = new Uri($"{baseUrl.AbsoluteUri.TrimEnd('/')}/api/v1/syncs/{syncId}/");
        return new HightouchTarget(definition.Name, definition.Timeout, syncUrl, fullResync, token, follow);
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(syncUrl, "trigger"))
        {
            Content = new StringContent(fullResync ? """{"fullResync":true}""" : """{"fullResync":false}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return new Failed("Hightouch answered 404: no sync with that syncId in the API key's workspace") { HttpStatus = 404 };
        // 422: Hightouch refused the request as invalid (a disabled sync, a bad body); sending it again cannot help.
        var outcome = HttpOutcomes.Classify(response, "Hightouch", call.Time.GetUtcNow());
        if (outcome is not CallAccepted) return outcome;
        var runId = await HttpOutcomes.ReadIdAsync(response, cancellationToken, "id").ConfigureAwait(false);
        return new CallAccepted($"started Hightouch sync run {runId ?? "(id not returned)"}") { HttpStatus = outcome.HttpStatus, DownstreamId = runId };
    }

    public async Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(syncUrl, $"runs?runId={Uri.EscapeDataString(runId)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await StatusAnswer.ReadAsync(response, "Hightouch (sync run status)", call.Time.GetUtcNow(), body => ReadRun(body, runId), cancellationToken).ConfigureAwait(false);
    }

    private static DownstreamRun? ReadRun(JsonElement body, string runId)
    {
        var runs = StatusAnswer.Get(body, "data");
        if (runs.ValueKind != JsonValueKind.Array) return null;
        var run = runs.EnumerateArray().FirstOrDefault(r => StatusAnswer.Text(StatusAnswer.Get(r, "id")) == runId);
        if (StatusAnswer.Text(StatusAnswer.Get(run, "status")) is not { } status) return null;
        var state = status.ToLowerInvariant() switch
        {
            // warning: the run finished, with some rows rejected (their counts show it).
            "success" or "warning" => DownstreamStates.Succeeded,
            "failed" => DownstreamStates.Failed,
            "cancelled" or "canceled" or "interrupted" or "abandoned" => DownstreamStates.Cancelled,
            _ => DownstreamStates.Running,
        };
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (group, prefix) in (ReadOnlySpan<(string, string)>)[("successfulRows", "succeeded"), ("failedRows", "failed")])
        {
            foreach (var kind in (string[])["addedCount", "changedCount", "removedCount"])
            {
                if (StatusAnswer.Count(StatusAnswer.Get(StatusAnswer.Get(run, group), kind)) is { } n) counts[$"{prefix} {kind[..^5]}"] = n;
            }
        }
        if (StatusAnswer.Count(StatusAnswer.Get(run, "querySize")) is { } size) counts["query rows"] = size;
        return new DownstreamRun(runId, state)
        {
            VendorStatus = status,
            StartedAt = StatusAnswer.Time(StatusAnswer.Get(run, "startedAt")),
            FinishedAt = StatusAnswer.Time(StatusAnswer.Get(run, "finishedAt")),
            Counts = counts.Count > 0 ? counts : null,
            Error = StatusAnswer.ErrorText(StatusAnswer.Get(run, "error")),
        };
    }
}
