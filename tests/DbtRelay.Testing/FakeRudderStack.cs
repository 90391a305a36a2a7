using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// RudderStack's Reverse ETL API: <c>POST /v2/retl-connections/{connectionId}/start</c>, bearer token, body
/// <c>{"syncType": …}</c>; 200 with a syncId, 401 for a bad token, 404 for an unknown connection, 409 while a sync runs.
/// </summary>
public sealed class FakeRudderStack(string token, params string[] connections) : FakeApi
{
    private int _syncs;

    /// <summary>When set, every start answers 409 (a sync is already running).</summary>
    public bool SyncRunning { get; set; }

    public Uri ApiBase => new(BaseUrl, "v2");

    public int Starts(string connection) => Calls("POST", $"/v2/retl-connections/{connection}/start");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        var parts = request.PathAndQuery.Split('/', StringSplitOptions.RemoveEmptyEntries);
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
        await context.Response.WriteAsJsonAsync(new { syncId = $"sync_{Interlocked.Increment(ref _syncs)}" });
    }
}
