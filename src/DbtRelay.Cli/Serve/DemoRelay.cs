using System.Collections.Concurrent;
using System.Text.Json;
using DbtRelay.Cli.Commands;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Cli.Serve;

/// <summary>
/// What <c>serve</c> runs when there is no relay.json: the demo webhook (its secret ships in appsettings.json) and
/// one route to a sink inside serve itself, so the first <c>dbt-relay send</c> ends in a delivered call whose
/// whole path shows in the log, with no account anywhere. The sink is mapped when a target calls it (the demo, or a
/// relay.json written by <c>init</c>, which starts with a route to it); it takes bodies of up to 16 KiB and keeps,
/// logs and lists only the summary of each call (event, job, run, status), never the body itself.
/// </summary>
internal sealed partial class DemoRelay(ILogger<DemoRelay> logger)
{
    public const string SinkPath = "/api/demo/sink";
    private const int Kept = 100;
    private const int MaxBody = 16 * 1024;
    private const int MaxField = 128;
    private static readonly string[] Fields = ["eventId", "eventType", "jobId", "runId", "runStatus"];

    private readonly ConcurrentQueue<Dictionary<string, string>> _received = new();

    /// <summary>Whether a target of <paramref name="config"/> calls a sink (this serve's or another's on this path).</summary>
    public static bool IsCalledBy(DbtRelay.Config.RelayConfig config) =>
        config.Targets.Values.OfType<DbtRelay.Targets.HttpTarget>().Any(t => t.UrlSource.Contains(SinkPath, StringComparison.Ordinal));

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
            if (context.Request.ContentLength > MaxBody) return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            var buffer = new byte[MaxBody + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted)) > 0) length += read;
            if (length > MaxBody) return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            Dictionary<string, string> call;
            try
            {
                using var body = JsonDocument.Parse(buffer.AsMemory(0, length));
                call = Fields.ToDictionary(name => name, name => Text(body.RootElement, name));
            }
            catch (JsonException)
            {
                return Results.BadRequest(new { error = "the demo sink takes a JSON object" });
            }
            _received.Enqueue(call);
            while (_received.Count > Kept) _received.TryDequeue(out _);
            LogReceived(logger, call["eventId"], call["jobId"], call["runId"], call["runStatus"]);
            return Results.Ok();
        });
        // Listed to this machine only: serve may be reachable through a tunnel, and the list names real runs.
        app.MapGet(SinkPath, (HttpContext context) => context.Connection.RemoteIpAddress is { } caller && System.Net.IPAddress.IsLoopback(caller)
            ? Results.Json(_received.ToArray())
            : Results.StatusCode(StatusCodes.Status403Forbidden));
    }

    /// <summary>A field as kept and logged: capped, and without control characters (anyone may POST here; a line
    /// break or an escape sequence would forge log lines or drive the terminal).</summary>
    private static string Text(JsonElement call, string name)
    {
        var text = call.ValueKind == JsonValueKind.Object && call.TryGetProperty(name, out var value) ? value.ToString() : "?";
        if (text.Length > MaxField) text = text[..MaxField] + "…";
        return text.Any(char.IsControl) ? new string([.. text.Select(c => char.IsControl(c) ? '?' : c)]) : text;
    }

    [LoggerMessage(8001, LogLevel.Information, "Demo sink received {EventId} (job {JobId}, run {RunId}, {RunStatus}): this is where your sync would start.")]
    private static partial void LogReceived(ILogger logger, string eventId, string jobId, string runId, string runStatus);
}
