using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// dbt Cloud's Administrative API v2: trigger <c>POST /api/v2/accounts/{a}/jobs/{j}/run/</c> (Token auth, body with
/// cause) → 200 <c>{"status":…,"data":{"id":…}}</c>; list <c>GET /api/v2/accounts/{a}/runs/?job_definition_id=…&amp;order_by=-id</c>.
/// </summary>
public sealed class FakeDbtCloud(string token, long accountId) : FakeApi
{
    private int _nextId = 900_000;

    public ConcurrentDictionary<int, (long JobId, string Cause)> Runs { get; } = new();

    public int Triggers => Calls("POST", $"/api/v2/accounts/{accountId}/jobs/");

    private int _unanswered;

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
}
