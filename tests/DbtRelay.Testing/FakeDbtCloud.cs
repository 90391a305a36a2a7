using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// dbt Cloud's Administrative API v2: trigger <c>POST /api/v2/accounts/{a}/jobs/{j}/run/</c> (Token auth, body with
/// cause) → 200 <c>{"status":…,"data":{"id":…}}</c>; list <c>GET /api/v2/accounts/{a}/runs/?job_definition_id=…&amp;order_by=-id</c>;
/// one run <c>GET /api/v2/accounts/{a}/runs/{id}/</c> → <c>data</c> with <c>status</c> (1 queued, 2 starting, 3 running,
/// 10 success, 20 error, 30 cancelled), <c>status_humanized</c>, <c>is_complete</c>, <c>started_at</c>,
/// <c>finished_at</c>, <c>status_message</c> and <c>href</c>; 404 for a run that does not exist.
/// </summary>
public sealed class FakeDbtCloud(string token, long accountId) : FakeApi
{
    private int _nextId = 900_000;

    public ConcurrentDictionary<int, (long JobId, string Cause)> Runs { get; } = new();

    public int Triggers => Calls("POST", $"/api/v2/accounts/{accountId}/jobs/");

    private int _unanswered;

    /// <summary>What successive status checks of a run say, one entry per check (the last one repeats).</summary>
    public IReadOnlyList<int> StatusScript { get; set; } = [10];

    /// <summary>HTTP codes the next status checks answer instead (429 without Retry-After, as dbt Cloud sends it).</summary>
    public ConcurrentQueue<int> StatusFailures { get; } = new();

    public int StatusChecks => Received.Count(r => r.Method == "GET" && r.PathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries).Length == 6);

    private readonly ConcurrentDictionary<int, int> _checks = new();

    /// <summary>How long a trigger waits, after creating its run, before answering (a slow dbt Cloud).</summary>
    public TimeSpan TriggerDelay { get; set; }

    /// <summary>Triggers whose run exists but whose answer has not been sent yet.</summary>
    public int UnansweredTriggers => Volatile.Read(ref _unanswered);

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Token {token}")
        {
            context.Response.StatusCode = 401;
            await context.Response.WriteAsJsonAsync(new { status = new { code = 401, is_success = false, user_message = "Invalid token." } });
            return;
        }
        var path = request.PathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        switch (request.Method, path)
        {
            case ("POST", ["api", "v2", "accounts", var a, "jobs", var j, "run"]) when a == accountId.ToString(System.Globalization.CultureInfo.InvariantCulture):
                using (var body = JsonDocument.Parse(request.Body))
                {
                    var cause = body.RootElement.GetProperty("cause").GetString()!;
                    if (cause.Length > 255)
                    {
                        context.Response.StatusCode = 400;
                        return;
                    }
                    var id = Interlocked.Increment(ref _nextId);
                    Runs[id] = (long.Parse(j, System.Globalization.CultureInfo.InvariantCulture), cause);
                    Interlocked.Increment(ref _unanswered);
                    try
                    {
                        if (TriggerDelay > TimeSpan.Zero) await Task.Delay(TriggerDelay, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _unanswered);
                    }
                    await context.Response.WriteAsJsonAsync(new { status = new { code = 200, is_success = true }, data = new { id, job_definition_id = long.Parse(j, System.Globalization.CultureInfo.InvariantCulture), cause, status = 1 } });
                }
                return;
            case ("GET", ["api", "v2", "accounts", _, "runs", var runId]):
                await AnswerRunAsync(context, runId);
                return;
            case ("GET", ["api", "v2", "accounts", _, "runs"]):
                var job = long.Parse(context.Request.Query["job_definition_id"]!, System.Globalization.CultureInfo.InvariantCulture);
                var runs = Runs.Where(r => r.Value.JobId == job).OrderByDescending(r => r.Key)
                    .Select(r => new { id = r.Key, job_definition_id = r.Value.JobId, cause = r.Value.Cause });
                await context.Response.WriteAsJsonAsync(new { status = new { code = 200, is_success = true }, data = runs });
                return;
            default:
                context.Response.StatusCode = 404;
                return;
        }
    }

    private async Task AnswerRunAsync(HttpContext context, string runId)
    {
        if (StatusFailures.TryDequeue(out var code))
        {
            context.Response.StatusCode = code;
            await context.Response.WriteAsJsonAsync(new { status = new { code, is_success = false, user_message = code == 429 ? "Too many requests" : "Internal error" } });
            return;
        }
        if (!int.TryParse(runId, System.Globalization.CultureInfo.InvariantCulture, out var id) || !Runs.TryGetValue(id, out var run))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { status = new { code = 404, is_success = false, user_message = "Run not found" } });
            return;
        }
        var check = _checks.AddOrUpdate(id, 1, (_, n) => n + 1);
        var status = StatusScript[Math.Min(check, StatusScript.Count) - 1];
        var complete = status is 10 or 20 or 30;
        await context.Response.WriteAsJsonAsync(new
        {
            status = new { code = 200, is_success = true },
            data = new
            {
                id,
                job_definition_id = run.JobId,
                cause = run.Cause,
                status,
                status_humanized = status switch { 1 => "Queued", 2 => "Starting", 3 => "Running", 10 => "Success", 20 => "Error", 30 => "Cancelled", _ => "?" },
                is_complete = complete,
                started_at = "2026-12-07 06:00:00.000000+00:00",
                finished_at = complete ? "2026-12-07 06:02:05.000000+00:00" : null,
                status_message = status == 20 ? "Database Error in model orders (models/orders.sql)" : null,
                href = $"https://cloud.getdbt.com/deploy/1/projects/2/runs/{id}/",
            },
        });
    }
}
