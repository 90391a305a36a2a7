using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// Power BI's REST API (learn.microsoft.com/rest/api/power-bi/datasets: "Refresh Dataset In Group", "Get Refresh History
/// In Group"), an Entra ID bearer token for <c>https://analysis.windows.net/powerbi/api</c>:
/// <c>POST /v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes</c> → 202 with a <c>RequestId</c> header; 400
/// <c>{"error":{"code","message"}}</c> while a refresh runs or past the daily limit; 401 for another audience; 404 for an
/// unknown model. <c>GET …/refreshes?$top=N</c> → <c>{"value": [...]}</c> newest first: <c>requestId</c>,
/// <c>refreshType</c> ViaApi, <c>startTime</c>, <c>endTime</c>, <c>status</c> (Unknown while running, Completed, Failed,
/// Cancelled, Disabled), <c>serviceExceptionJson</c>.
/// </summary>
public sealed class FakePowerBi(string groupId, string datasetId) : FakeApi
{
    public const string ExpectedToken = "mi-token-for-analysis.windows.net";

    private readonly ConcurrentQueue<(string RequestId, DateTimeOffset Started)> _refreshes = new();
    private readonly ConcurrentDictionary<string, int> _checks = new();

    /// <summary>What successive status checks of a refresh say (the last one repeats).</summary>
    public IReadOnlyList<string> StatusScript { get; set; } = ["Completed"];

    /// <summary>The next triggers are refused: "already executing" while a refresh runs.</summary>
    public int RefreshInProgressAnswers { get; set; }

    /// <summary>Every trigger is refused with the 24-hour limit error.</summary>
    public bool DailyLimitReached { get; set; }

    public int Refreshes => _refreshes.Count;

    public int Triggers => Calls("POST", $"/v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes");

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Bearer {ExpectedToken}")
        {
            context.Response.StatusCode = 401;
            return;
        }
        var path = request.PathAndQuery.Split('?')[0];
        if (path != $"/v1.0/myorg/groups/{groupId}/datasets/{datasetId}/refreshes")
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { error = new { code = "ItemNotFound", message = "Dataset is not found" } });
            return;
        }
        if (request.Method == "POST")
        {
            if (DailyLimitReached || RefreshInProgressAnswers > 0)
            {
                var inProgress = !DailyLimitReached;
                if (inProgress) RefreshInProgressAnswers--;
                context.Response.StatusCode = 400;
                await context.Response.WriteAsJsonAsync(new
                {
                    error = new
                    {
                        code = "InvalidRequest",
                        message = inProgress
                            ? "Invalid dataset refresh request. Another refresh request is already executing"
                            : "Invalid dataset refresh request. Number of refresh requests in last 24 hours exceeded limit",
                    },
                });
                return;
            }
            var requestId = Guid.NewGuid().ToString("D");
            _refreshes.Enqueue((requestId, DateTimeOffset.UtcNow));
            context.Response.StatusCode = 202;
            context.Response.Headers["RequestId"] = requestId;
            return;
        }
        var top = int.TryParse(context.Request.Query["$top"], out var n) ? n : 60;
        var value = _refreshes.Reverse().Take(top).Select(r =>
        {
            var check = _checks.AddOrUpdate(r.RequestId, 1, (_, c) => c + 1);
            var status = StatusScript[Math.Min(check, StatusScript.Count) - 1];
            return new
            {
                requestId = r.RequestId,
                id = 1,
                refreshType = "ViaApi",
                startTime = r.Started.ToString("O"),
                endTime = status == "Unknown" ? null : r.Started.AddSeconds(75).ToString("O"),
                status,
                serviceExceptionJson = status == "Failed" ? """{"errorCode":"ModelRefreshFailed_CredentialsNotSpecified","errorDescription":"The credentials for the data source are missing."}""" : null,
            };
        }).ToList();
        await context.Response.WriteAsJsonAsync(new { value });
    }
}
