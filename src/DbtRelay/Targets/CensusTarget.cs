using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// Triggers a Census (Fivetran Activations) sync: <c>POST {baseUrl}/api/v1/syncs/{syncId}/trigger[?force_full_sync=true]</c>
/// with a bearer workspace token → <c>{"status":"success","data":{"sync_run_id":…}}</c>; the run is followed with
/// <c>GET {baseUrl}/api/v1/sync_runs/{id}</c> (<c>data.status</c>: queued, working, completed, failed, skipped;
/// <c>canceled</c>; record counts; <c>error_message</c>).
/// </summary>
public sealed class CensusTarget(string name, TimeSpan timeout, Uri apiUrl, long syncId, bool forceFullSync, string tokenSecret, FollowSettings? follow) : IFollowedTarget
{
    public const string TypeName = "census";
    private static readonly Uri DefaultBaseUrl = new("https://app.getcensus.com/");

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [tokenSecret];
    public FollowSettings? Follow => follow;

    /// <summary>What <c>dbt-relay init --target census</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "census", ["syncId"] = 1, ["token"] = "census-api-token", ["forceFullSync"] = false,
        ["follow"] = new JsonObject { ["every"] = "30s", ["maxWait"] = "6h" },
        ["description"] = "Triggers a Census (Fivetran Activations) sync and follows the run to its end. syncId: the sync's id; token: the secret name of a workspace API token.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, .. FollowSettings.Properties, "syncId", "token", "forceFullSync", "baseUrl"]);
        var syncId = node["syncId"].Number(required: true, 1);
        var token = node["token"].SecretName(required: true);
        var forceFullSync = node["forceFullSync"].Bool() ?? false;
        var baseUrl = node["baseUrl"].Exists ? node["baseUrl"].Url(required: true) : DefaultBaseUrl;
        var follow = FollowSettings.Read(node);
        if (syncId is null || token is null || baseUrl is null) return null;
        return new CensusTarget(definition.Name, definition.Timeout, new Uri($"{baseUrl.AbsoluteUri.TrimEnd('/')}/api/v1/"), syncId.Value, forceFullSync, token, follow);
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(apiUrl, $"syncs/{syncId}/trigger{(forceFullSync ? "?force_full_sync=true" : "")}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return new Failed("Census answered 404: no sync with that syncId in the token's workspace") { HttpStatus = 404 };
        var outcome = HttpOutcomes.Classify(response, "Census", call.Time.GetUtcNow());
        if (outcome is not CallAccepted) return outcome;
        var runId = await HttpOutcomes.ReadIdAsync(response, cancellationToken, "data", "sync_run_id").ConfigureAwait(false);
        return new CallAccepted($"started Census sync run {runId ?? "(id not returned)"}") { HttpStatus = outcome.HttpStatus, DownstreamId = runId };
    }

    public async Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken)
    {
        // The id came from Census's answer: only a number goes into the URL.
        if (!long.TryParse(runId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
        {
            return new Failed($"'{runId}' is not a Census sync run id");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(apiUrl, $"sync_runs/{id}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return await StatusAnswer.ReadAsync(response, "Census (sync run status)", call.Time.GetUtcNow(), body => ReadRun(StatusAnswer.Get(body, "data"), runId), cancellationToken)
            .ConfigureAwait(false);
    }

    private static DownstreamRun? ReadRun(JsonElement run, string runId)
    {
        if (StatusAnswer.Text(StatusAnswer.Get(run, "status")) is not { } status) return null;
        var canceled = StatusAnswer.Get(run, "canceled").ValueKind == JsonValueKind.True;
        var state = status.ToLowerInvariant() switch
        {
            _ when canceled => DownstreamStates.Cancelled,
            "completed" => DownstreamStates.Succeeded,
            "failed" => DownstreamStates.Failed,
            // skipped: an earlier run of the sync was still running, so this one did nothing.
            "skipped" => DownstreamStates.Cancelled,
            _ => DownstreamStates.Running,
        };
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (field, label) in (ReadOnlySpan<(string, string)>)[("source_record_count", "source"), ("records_processed", "processed"),
                     ("records_updated", "updated"), ("records_failed", "failed"), ("records_invalid", "invalid")])
        {
            if (StatusAnswer.Count(StatusAnswer.Get(run, field)) is { } n) counts[label] = n;
        }
        var error = StatusAnswer.ErrorText(StatusAnswer.Get(run, "error_message"));
        return new DownstreamRun(runId, state)
        {
            VendorStatus = canceled ? "canceled" : status,
            StartedAt = StatusAnswer.Time(StatusAnswer.Get(run, "created_at")),
            FinishedAt = StatusAnswer.Time(StatusAnswer.Get(run, "completed_at")),
            Counts = counts.Count > 0 ? counts : null,
            Error = status == "skipped" && error is null ? "skipped: an earlier run of this sync was still running" : error,
        };
    }
}
