using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using DbtRelay.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Benchmarks;

/// <summary>
/// The downstream of a measured relay: <c>POST /sync</c> with <c>{"eventId": …}</c> on loopback, recording when each
/// event's first call arrived (a <see cref="Stopwatch"/> timestamp), so a run can compute send → downstream call.
/// </summary>
internal sealed class ArrivalSink : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ArrivalSink(WebApplication app) => _app = app;

    /// <summary>Event id → timestamp of its first call.</summary>
    public ConcurrentDictionary<string, long> Arrivals { get; } = new();

    /// <summary>The URL a relay.json target calls.</summary>
    public Uri SyncUrl => new(ListeningAddress.Of(_app), "sync");

    public static async Task<ArrivalSink> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var sink = new ArrivalSink(builder.Build());
        sink._app.MapPost("/sync", async (HttpContext context) =>
        {
            var now = Stopwatch.GetTimestamp();
            using var body = await JsonDocument.ParseAsync(context.Request.Body);
            sink.Arrivals.TryAdd(body.RootElement.GetProperty("eventId").GetString()!, now);
            return Results.Ok();
        });
        await sink._app.StartAsync();
        return sink;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
