using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// RudderStack's Reverse ETL API: <c>POST /v2/retl-connections/{connectionId}/start</c>, bearer token, body
/// <c>{"syncType": …}</c>; 200 with a syncId, 401 for a bad token, 404 for an unknown connection, 409 while a sync runs.
/// <c>GET /v2/retl-connections/{connectionId}/syncs/{syncId}</c>: the sync's status (running, succeeded, failed), start
/// and finish times, error, and <c>metrics</c> with succeeded / failed / changed totals; 404 for a sync it never started.
/// </summary>
public sealed class FakeRudderStack(string token, params string[] connections) : FakeApi
{
    private int _syncs;

    /// <summary>When set, every start answers 409 (a sync is already running).</summary>
    public bool SyncRunning { get; set; }

    public Uri ApiBase => new(BaseUrl, "v2");

    public int Starts(string connection) => Calls("POST", $"/v2/retl-connections/{connection}/start");

    /// <summary>What successive status checks of a sync say, one entry per check (the last one repeats).</summary>
    public IReadOnlyList<string> StatusScript { get; set; } = ["succeeded"];

    /// <summary>HTTP codes the next status checks answer instead (429 with Retry-After: 1), before the script goes on.</summary>
    public ConcurrentQueue<int> StatusFailures { get; } = new();

    /// <summary>The error text of a failed sync.</summary>
    public string FailureText { get; set; } = "Destination rejected 3 records: invalid email";

    private readonly ConcurrentDictionary<string, int> _checks = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _started = new();

    public int StatusChecks(string connection) => Calls("GET", $"/v2/retl-connections/{connection}/syncs/");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        var parts = request.PathAndQuery.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (request.Method == "GET" && parts is ["v2", "retl-connections", var conn, "syncs", var syncId])
        {
            await AnswerStatusAsync(context, request, conn, syncId);
            return;
        }
        if (request.Method == "GET" && parts is ["v2", "retl-connections", _, var syncs] && syncs.StartsWith("syncs", StringComparison.Ordinal))
        {
            await ListSyncsAsync(context, request);
            return;
        }
        if (request.Method != "POST" || parts is not ["v2", "retl-connections", var connection, "start"])
        {
            context.Response.StatusCode = 404;
            return;
        }
        if (request.Header("Authorization") != $"Bearer {token}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { message = "Unauthorized" });
            return;
        }
        if (!connections.Contains(connection))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { message = "connection not found" });
            return;
        }
        using var body = System.Text.Json.JsonDocument.Parse(request.Body);
        if (body.RootElement.GetProperty("syncType").GetString() is not ("incremental" or "full"))
        {
            context.Response.StatusCode = 400;
            return;
        }
        if (SyncRunning)
        {
            context.Response.StatusCode = 409;
            await context.Response.WriteAsJsonAsync(new { message = "A sync is already running" });
            return;
        }
        var id = $"sync_{Interlocked.Increment(ref _syncs)}";
        _started[id] = DateTimeOffset.UtcNow;
        await context.Response.WriteAsJsonAsync(new { syncId = id });
    }

    /// <summary>The sync started outside the relay that makes starts answer 409 while <see cref="SyncRunning"/>.</summary>
    public const string RunningSyncId = "sync_scheduled";

    /// <summary><c>GET …/syncs?status=running</c>: the documented list, filtered by status.</summary>
    private async Task ListSyncsAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Bearer {token}")
        {
            context.Response.StatusCode = 401;
            return;
        }
        var running = SyncRunning && context.Request.Query["status"] == "running";
        if (running) _started.TryAdd(RunningSyncId, DateTimeOffset.UtcNow);
        await context.Response.WriteAsJsonAsync(new
        {
            data = running ? new[] { new { id = RunningSyncId, status = "running", startedAt = _started[RunningSyncId].ToString("O") } } : [],
            paging = new { total = running ? 1 : 0 },
        });
    }

    private async Task AnswerStatusAsync(HttpContext context, ReceivedRequest request, string connection, string syncId)
    {
        if (request.Header("Authorization") != $"Bearer {token}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { message = "Unauthorized" });
            return;
        }
        if (StatusFailures.TryDequeue(out var code))
        {
            context.Response.StatusCode = code;
            if (code == 429) context.Response.Headers.RetryAfter = "1";
            await context.Response.WriteAsJsonAsync(new { message = code == 429 ? "Too many requests" : "Internal server error" });
            return;
        }
        if (!connections.Contains(connection) || !_started.TryGetValue(syncId, out var started))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { message = "sync not found" });
            return;
        }
        var check = _checks.AddOrUpdate(syncId, 1, (_, n) => n + 1);
        var status = StatusScript[Math.Min(check, StatusScript.Count) - 1];
        var done = status != "running";
        await context.Response.WriteAsJsonAsync(new
        {
            id = syncId,
            status,
            startedAt = started.ToString("O"),
            finishedAt = done ? DateTimeOffset.UtcNow.ToString("O") : null,
            error = status == "failed" ? FailureText : null,
            metrics = new
            {
                succeeded = new { total = status == "failed" ? 7 : 10 },
                failed = new { total = status == "failed" ? 3 : 0 },
                changed = new { total = 10 },
                total = 10,
            },
        });
    }
}
