using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// Census's (Fivetran Activations') workspace API (developers.getcensus.com, "Trigger a sync run" and "Fetch sync run"),
/// bearer workspace token: <c>POST /api/v1/syncs/{sync_id}/trigger[?force_full_sync=true]</c> → 200
/// <c>{"status":"success","data":{"sync_run_id":…}}</c>, 401 for a bad token, 404 for an unknown sync;
/// <c>GET /api/v1/sync_runs/{id}</c> → <c>{"status":"success","data":{…}}</c> with <c>status</c> (queued, working,
/// completed, failed, skipped), <c>canceled</c>, <c>created_at</c>, <c>completed_at</c>, the record counts and
/// <c>error_code</c> / <c>error_message</c> / <c>error_detail</c>; 404 for an unknown run.
/// </summary>
public sealed class FakeCensus(string token, params long[] syncs) : FakeApi
{
    private int _runs = 94;
    private readonly ConcurrentDictionary<int, (long Sync, bool Full, DateTimeOffset Created)> _started = new();
    private readonly ConcurrentDictionary<int, int> _checks = new();

    /// <summary>What successive status checks of a run say (the last one repeats).</summary>
    public IReadOnlyList<string> StatusScript { get; set; } = ["completed"];

    /// <summary>HTTP codes the next status checks answer instead.</summary>
    public ConcurrentQueue<int> StatusFailures { get; } = new();

    public string FailureText { get; set; } = "The array field being used does not appear to be valid JSON";

    public IReadOnlyCollection<(long Sync, bool Full)> Runs => _started.Values.Select(r => (r.Sync, r.Full)).ToList();

    public int Triggers(long sync) => Calls("POST", $"/api/v1/syncs/{sync}/trigger");

    public int StatusChecks => Calls("GET", "/api/v1/sync_runs/");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Bearer {token}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { status = "unauthorized", message = "Invalid workspace token" });
            return;
        }
        var parts = request.PathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (request.Method, parts)
        {
            case ("POST", ["api", "v1", "syncs", var id, "trigger"]) when long.TryParse(id, out var sync) && syncs.Contains(sync):
                var runId = Interlocked.Increment(ref _runs);
                _started[runId] = (sync, context.Request.Query["force_full_sync"] == "true", DateTimeOffset.UtcNow);
                await context.Response.WriteAsJsonAsync(new { status = "success", data = new { sync_run_id = runId } });
                return;
            case ("GET", ["api", "v1", "sync_runs", var id]):
                await RunAsync(context, id);
                return;
            default:
                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new { status = "not_found", message = "Sync not found" });
                return;
        }
    }

    private async Task RunAsync(HttpContext context, string id)
    {
        if (StatusFailures.TryDequeue(out var code))
        {
            context.Response.StatusCode = code;
            await context.Response.WriteAsJsonAsync(new { status = "error", message = code == 429 ? "Rate limit exceeded" : "Internal server error" });
            return;
        }
        if (!int.TryParse(id, out var runId) || !_started.TryGetValue(runId, out var run))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { status = "not_found", message = "Sync run not found" });
            return;
        }
        var check = _checks.AddOrUpdate(runId, 1, (_, n) => n + 1);
        var status = StatusScript[Math.Min(check, StatusScript.Count) - 1];
        var done = status is "completed" or "failed" or "skipped";
        await context.Response.WriteAsJsonAsync(new
        {
            status = "success",
            data = new
            {
                id = runId,
                sync_id = run.Sync,
                status,
                canceled = false,
                full_sync = run.Full,
                created_at = run.Created.ToString("O"),
                updated_at = DateTimeOffset.UtcNow.ToString("O"),
                completed_at = done ? run.Created.AddSeconds(82).ToString("O") : null,
                source_record_count = 15,
                records_processed = 14,
                records_updated = status == "failed" ? 0 : 13,
                records_failed = status == "failed" ? 14 : 1,
                records_invalid = 1,
                error_code = status == "failed" ? "JSON_ARRAY_ERROR" : null,
                error_message = status == "failed" ? FailureText : null,
                error_detail = status == "failed" ? "Please make sure the field is formatted as a JSON Array" : null,
            },
        });
    }
}
