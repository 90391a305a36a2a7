using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using DbtRelay.Cli;
using DbtRelay.Cli.Serve;
using DbtRelay.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Benchmarks;

/// <summary>
/// Load run: <c>dbt-relay serve</c> on loopback with one http target pointing at a local sink. Sends N signed events
/// with C in flight and reports, per event, intake response time and accepted → downstream-call latency.
/// </summary>
internal static class LatencyRun
{
    public static async Task<int> RunAsync(int events, int concurrency, string store)
    {
        await using var sink = await ArrivalSink.StartAsync();
        var arrivals = sink.Arrivals;

        var config = Path.Combine(Path.GetTempPath(), $"relay-latency-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "load", "secret": "load-secret" } ],
              "targets": { "sink": { "type": "http", "url": "{{{sink.SyncUrl}}}", "body": { "eventId": "{{eventId}}" } } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """);
        var database = Path.Combine(Path.GetTempPath(), $"relay-latency-{Guid.NewGuid():N}.db");
        ServeStore serveStore = store switch
        {
            "memory" => new ServeStore.InMemory(),
            "normal" => new ServeStore.Embedded(database, DbtRelay.Sqlite.SqliteDurability.Normal),
            _ => new ServeStore.Embedded(database),
        };
        Console.WriteLine($"store: {serveStore.Describe()}");
        var relay = ServeHost.Build(config, "http://127.0.0.1:0", Console.Error, serveStore, new Dictionary<string, string?>
        {
            ["Secrets:load-secret"] = "load-secret",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:DbtRelay"] = "Warning",
        }) ?? throw new InvalidOperationException("relay config invalid");
        await using (relay)
        {
            await ServeHost.StartAsync(relay, Console.Error);
            var webhook = new Uri(ServeHost.Addresses(relay).Single() + RelayCli.WebhookPath);
            using var http = new HttpClient();
            var sent = new ConcurrentDictionary<string, (long Start, long Accepted)>();
            var key = Encoding.UTF8.GetBytes("load-secret");

            async Task SendAsync(int i)
            {
                var body = Encoding.UTF8.GetBytes(Payloads.OneKiB.Replace("wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z", $"wev_load_{i:D6}", StringComparison.Ordinal));
                using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new ByteArrayContent(body) };
                request.Headers.TryAddWithoutValidation("Authorization", WebhookSignature.Compute(key, body));
                var start = Stopwatch.GetTimestamp();
                using var response = await http.SendAsync(request);
                if ((int)response.StatusCode != 202) throw new InvalidOperationException($"intake answered {(int)response.StatusCode}");
                sent[$"wev_load_{i:D6}"] = (start, Stopwatch.GetTimestamp());
            }

            // Warm-up (JIT, connection pools) is not measured.
            for (var i = 0; i < 200; i++) await SendAsync(1_000_000 + i);
            await WaitAsync(() => arrivals.Count >= 200);
            arrivals.Clear();
            sent.Clear();

            var rssAfterWarmUp = Process.GetCurrentProcess().WorkingSet64;
            var wall = Stopwatch.StartNew();
            await Parallel.ForAsync(0, events, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) => await SendAsync(i));
            await WaitAsync(() => arrivals.Count >= events);
            wall.Stop();
            GC.Collect();
            var rssAtEnd = Process.GetCurrentProcess().WorkingSet64;

            var intake = sent.Values.Select(s => Stopwatch.GetElapsedTime(s.Start, s.Accepted).TotalMilliseconds).Order().ToArray();
            var toCall = sent.Select(s => Stopwatch.GetElapsedTime(s.Value.Start, arrivals[s.Key]).TotalMilliseconds).Order().ToArray();
            Console.WriteLine($"events: {events}, concurrency: {concurrency}, wall: {wall.Elapsed.TotalSeconds:F2} s ({events / wall.Elapsed.TotalSeconds:F0} events/s)");
            Console.WriteLine($"intake response (POST → 202):          p50 {P(intake, 50):F2} ms  p99 {P(intake, 99):F2} ms  max {intake[^1]:F2} ms");
            Console.WriteLine($"accepted → downstream call (POST → sink): p50 {P(toCall, 50):F2} ms  p99 {P(toCall, 99):F2} ms  max {toCall[^1]:F2} ms");
            Console.WriteLine($"process RSS (relay + load generator + sink): {rssAfterWarmUp / 1048576.0:F0} MiB after warm-up, {rssAtEnd / 1048576.0:F0} MiB after {events} events");
            if (serveStore is ServeStore.Embedded)
            {
                double MiB(string suffix) => new FileInfo(database + suffix) is { Exists: true } f ? f.Length / 1048576.0 : 0;
                Console.WriteLine($"database after {events} events (all delivered): {MiB(""):F1} MiB + WAL {MiB("-wal"):F1} MiB");
                // What the hourly retention pass does with the pages the backlog freed.
                await relay.Services.GetRequiredService<DbtRelay.Sqlite.SqliteRetention>().ReleaseFreePagesAsync(default);
                Console.WriteLine($"after the retention pass frees the backlog's pages: {MiB(""):F1} MiB (the ledger rows, kept 30 days)");
            }
            await relay.StopAsync();
        }
        File.Delete(config);
        foreach (var suffix in new[] { "", "-wal", "-shm", ".lock" }) File.Delete(database + suffix);
        return 0;
    }

    private static double P(double[] sorted, int percentile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];

    private static async Task WaitAsync(Func<bool> done)
    {
        var deadline = Stopwatch.StartNew();
        while (!done())
        {
            if (deadline.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("the sink did not receive every event");
            await Task.Delay(5);
        }
    }
}
