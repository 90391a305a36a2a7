using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// Hightouch's REST API (hightouch.com/docs/api-reference, "Trigger a sync" and "List sync runs"), bearer API key:
/// <c>POST /api/v1/syncs/{syncId}/trigger</c> with <c>{"fullResync": bool}</c> → 200 <c>{"id": "…"}</c>, 401 for a bad
/// key, 404 for an unknown sync, 422 with <c>details</c> for an invalid body; <c>GET /api/v1/syncs/{syncId}/runs?runId=…</c>
/// → <c>{"data": [run]}</c> (empty for an unknown run) with <c>status</c>, <c>startedAt</c>, <c>finishedAt</c>,
/// <c>querySize</c>, <c>successfulRows</c> / <c>failedRows</c> (<c>addedCount</c>, <c>changedCount</c>,
/// <c>removedCount</c>) and <c>error</c>.
/// </summary>
public sealed class FakeHightouch(string apiKey, params long[] syncs) : FakeApi
{
    private int _runs = 4_827_260;
    private readonly ConcurrentDictionary<string, (long Sync, bool Full, DateTimeOffset Started)> _started = new();
    private readonly ConcurrentDictionary<string, int> _checks = new();

    /// <summary>What successive status checks of a run say (the last one repeats).</summary>
    public IReadOnlyList<string> StatusScript { get; set; } = ["success"];

    /// <summary>HTTP codes the next status checks answer instead (429 with Retry-After: 1).</summary>
    public ConcurrentQueue<int> StatusFailures { get; } = new();

    public string FailureText { get; set; } = "Salesforce rejected the batch: INVALID_FIELD Email__c";

    public IReadOnlyCollection<(long Sync, bool Full)> Runs => _started.Values.Select(r => (r.Sync, r.Full)).ToList();

    public int Triggers(long sync) => Calls("POST", $"/api/v1/syncs/{sync}/trigger");

    public int StatusChecks(long sync) => Calls("GET", $"/api/v1/syncs/{sync}/runs");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Bearer {apiKey}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { message = "Unauthorized" });
            return;
        }
        var parts = request.PathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not ["api", "v1", "syncs", var id, var action] || !long.TryParse(id, out var sync) || !syncs.Contains(sync))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { message = "Sync not found" });
            return;
        }
        switch (request.Method, action)
        {
            case ("POST", "trigger"):
                bool full;
                try
                {
                    using var body = JsonDocument.Parse(request.Body);
                    full = body.RootElement.GetProperty("fullResync").GetBoolean();
                }
                catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
                {
                    context.Response.StatusCode = 422;
                    await context.Response.WriteAsJsonAsync(new { message = "Validation failed", details = "fullResync must be a boolean" });
                    return;
                }
                var runId = Interlocked.Increment(ref _runs).ToString(System.Globalization.CultureInfo.InvariantCulture);
                _started[runId] = (sync, full, DateTimeOffset.UtcNow);
                await context.Response.WriteAsJsonAsync(new { id = runId });
                return;
            case ("GET", "runs"):
                await RunsAsync(context);
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    private async Task RunsAsync(HttpContext context)
    {
        if (StatusFailures.TryDequeue(out var code))
        {
            context.Response.StatusCode = code;
            if (code == 429) context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsJsonAsync(new { message = code == 429 ? "Too many requests" : "Internal server error" });
            return;
        }
        var runId = context.Request.Query["runId"].ToString();
        if (!_started.TryGetValue(runId, out var run))
        {
            await context.Response.WriteAsJsonAsync(new { data = Array.Empty<object>(), hasMore = false });
            return;
        }
        var check = _checks.AddOrUpdate(runId, 1, (_, n) => n + 1);
        var status = StatusScript[Math.Min(check, StatusScript.Count) - 1];
        var done = status is "success" or "warning" or "failed" or "cancelled" or "interrupted" or "abandoned";
        await context.Response.WriteAsJsonAsync(new
        {
            data = new[]
            {
                new
                {
                    id = runId,
                    status,
                    createdAt = run.Started.ToString("O"),
                    startedAt = run.Started.ToString("O"),
                    finishedAt = done ? run.Started.AddSeconds(42).ToString("O") : null,
                    querySize = 120,
                    plannedRows = new { addedCount = 20, changedCount = 100, removedCount = 0 },
                    successfulRows = new { addedCount = status == "failed" ? 0 : 20, changedCount = status == "failed" ? 0 : 95, removedCount = 0 },
                    failedRows = new { addedCount = 0, changedCount = status == "failed" ? 100 : 5, removedCount = 0 },
                    error = status == "failed" ? FailureText : null,
                },
            },
            hasMore = false,
        });
    }
}
