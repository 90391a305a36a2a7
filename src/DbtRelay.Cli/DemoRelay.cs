using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Cli;

/// <summary>
/// What <c>serve</c> runs when there is no relay.json: the demo webhook (its secret ships in appsettings.json) and
/// one route to a sink inside serve itself, so the first <c>dbt-relay send</c> ends in a delivered call whose
/// whole path shows in the log, with no account anywhere. The sink is there in every serve (a relay.json written by
/// <c>init</c> starts with a route to it); it only logs and lists what it receives.
/// </summary>
internal sealed partial class DemoRelay(ILogger<DemoRelay> logger)
{
    public const string SinkPath = "/api/demo/sink";
    private const int Kept = 100;

    private readonly ConcurrentQueue<JsonElement> _received = new();

    /// <summary>The demo relay.json, its one target pointing at <paramref name="relayUrl"/>'s sink.</summary>
    public static string Config(string relayUrl) => $$$"""
        {
          "webhooks": [ { "name": "demo", "secret": "{{{SendCommand.DefaultSecretName}}}", "description": "The demo secret shipped in appsettings.json; never use it for a real webhook." } ],
          "targets": {
            "demo-sink": {
              "type": "http", "method": "POST", "url": "{{{relayUrl}}}{{{SinkPath}}}",
              "body": { "eventId": "{{eventId}}", "eventType": "{{eventType}}", "jobId": "{{data.jobId}}", "runId": "{{data.runId}}", "runStatus": "{{data.runStatus}}" }
            }
          },
          "routes": [ { "name": "demo", "when": {}, "targets": ["demo-sink"] } ]
        }
        """;

    /// <summary>POST records and logs what arrived; GET lists the last 100 calls.</summary>
    public void Map(IEndpointRouteBuilder app)
    {
        app.MapPost(SinkPath, async (HttpContext context) =>
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            var call = body.RootElement.Clone();
            _received.Enqueue(call);
            while (_received.Count > Kept) _received.TryDequeue(out _);
            LogReceived(logger, Text(call, "eventId"), Text(call, "jobId"), Text(call, "runId"), Text(call, "runStatus"));
            return Results.Ok();
        });
        app.MapGet(SinkPath, () => Results.Json(_received.ToArray()));
    }

    private static string Text(JsonElement call, string name) => call.TryGetProperty(name, out var value) ? value.ToString() : "?";

    [LoggerMessage(8001, LogLevel.Information, "Demo sink received {EventId} (job {JobId}, run {RunId}, {RunStatus}): this is where your sync would start.")]
    private static partial void LogReceived(ILogger logger, string eventId, string jobId, string runId, string runStatus);
}
