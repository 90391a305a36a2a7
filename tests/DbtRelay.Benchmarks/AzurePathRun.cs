using System.Diagnostics;
using System.Text;
using DbtRelay.Cli;
using DbtRelay.Cli.Serve;
using DbtRelay.Testing;
using DbtRelay.Webhooks;

namespace DbtRelay.Benchmarks;

/// <summary>
/// The Azure path measured beside serve, in the same run: the Functions app in a real Functions host on Azurite
/// (as <c>func start</c> runs it), serve in memory, and serve on its embedded database, each with one http target on
/// a local sink. Per variant and round: events sent one at a time with an idle gap between them (dbt sends a few an
/// hour, so every event meets an idle pipeline, its queue listeners backed off), POST → 202 and POST → downstream
/// call; then intake throughput under wrk at 50 connections. Needs a Functions host (func on PATH or
/// DBT_RELAY_FUNCTIONS_HOST), Node for Azurite and wrk.
/// </summary>
internal static class AzurePathRun
{
    /// <summary>
    /// <paramref name="hostSettings"/>: extra app or host settings for the Functions host (a polling interval to
    /// compare); <paramref name="hostOnly"/>: the host's one-at-a-time latency alone, no serve and no wrk.
    /// </summary>
    public static async Task<int> RunAsync(int events, int rounds, TimeSpan gap, int wrkSeconds, IReadOnlyDictionary<string, string> hostSettings, bool hostOnly)
    {
        await using var sink = await ArrivalSink.StartAsync();
        var arrivals = sink.Arrivals;
        var relayJson = $$$"""
            { "webhooks": [ { "name": "load", "secret": "load-secret" } ],
              "targets": { "sink": { "type": "http", "url": "{{{sink.SyncUrl}}}", "body": { "eventId": "{{eventId}}" } } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """;
        var config = Path.Combine(Path.GetTempPath(), $"relay-azure-path-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, relayJson);
        var script = await LoadRun.WriteScriptAsync();

        var storage = Azurite.Own();
        await storage.InitializeAsync();
        var settings = new Dictionary<string, string>
        {
            ["Secrets__load-secret"] = "load-secret",
            // The relay's lines at Warning, as serve runs here, so neither host writes a line per event to its console.
            ["AzureFunctionsJobHost__logging__logLevel__Function"] = "Warning",
        };
        foreach (var (name, value) in hostSettings) settings[name] = value;
        await using var host = await FunctionsHost.StartAsync(relayJson, storage.ConnectionString, settings);
        Console.WriteLine($"Functions host on {host.BaseUrl} (app: {host.AppDirectory}), Azurite, sink on {sink.SyncUrl}");
        Console.WriteLine($"host settings: {string.Join(", ", hostSettings.Select(s => $"{s.Key}={s.Value}"))}");

        var variants = new (string Name, Func<Task<(Uri Webhook, Func<Task> Stop)>> Start)[]
        {
            ("Functions host", () => Task.FromResult((host.Url("api/dbt/webhook"), (Func<Task>)(() => Task.CompletedTask)))),
            ("serve --in-memory", () => StartServeAsync(config, new ServeStore.InMemory())),
            ("serve (embedded)", () => StartServeAsync(config, new ServeStore.Embedded(Path.Combine(Path.GetTempPath(), $"relay-azure-path-{Guid.NewGuid():N}.db")))),
        }.Take(hostOnly ? 1 : 3).ToArray();
        var results = variants.ToDictionary(v => v.Name, _ => new List<(double[] Ack, double[] Call, double Rps, double P99)>());
        using var http = new HttpClient();
        var key = Encoding.UTF8.GetBytes("load-secret");
        var sequence = 0;
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (name, start) in variants)
            {
                var (webhook, stop) = await start();
                var acks = new List<double>();
                var calls = new List<double>();
                for (var i = -3; i < events; i++) // three unmeasured warm-up events
                {
                    var eventId = $"wev_azure_path_{Interlocked.Increment(ref sequence):D6}";
                    var body = Encoding.UTF8.GetBytes(Payloads.OneKiB.Replace("wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z", eventId, StringComparison.Ordinal));
                    using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new ByteArrayContent(body) };
                    request.Headers.TryAddWithoutValidation("Authorization", WebhookSignature.Compute(key, body));
                    var sent = Stopwatch.GetTimestamp();
                    HttpResponseMessage response;
                    try
                    {
                        response = await http.SendAsync(request);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        throw new InvalidOperationException($"{name} did not answer {eventId} ({ex.Message}); the Functions host's last lines:\n" +
                            string.Join('\n', host.Output.Split('\n').TakeLast(80)), ex);
                    }
                    using var _ = response;
                    var acked = Stopwatch.GetTimestamp();
                    if ((int)response.StatusCode != 202) throw new InvalidOperationException($"{name} answered {(int)response.StatusCode}");
                    var deadline = Stopwatch.StartNew();
                    while (!arrivals.ContainsKey(eventId))
                    {
                        if (deadline.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"{name}: {eventId} never reached the sink");
                        await Task.Delay(1);
                    }
                    if (i >= 0)
                    {
                        acks.Add(Stopwatch.GetElapsedTime(sent, acked).TotalMilliseconds);
                        calls.Add(Stopwatch.GetElapsedTime(sent, arrivals[eventId]).TotalMilliseconds);
                    }
                    await Task.Delay(gap);
                }
                var (rps, p99) = (double.NaN, double.NaN);
                if (!hostOnly)
                {
                    await LoadRun.WrkAsync(webhook.ToString(), script, 3); // warm-up
                    (rps, p99) = await LoadRun.WrkAsync(webhook.ToString(), script, wrkSeconds);
                }
                await stop();
                var ack = acks.Order().ToArray();
                var call = calls.Order().ToArray();
                results[name].Add((ack, call, rps, p99));
                Console.WriteLine($"round {round} {name,-18} 202 p50 {P(ack, 50),6:F1} p99 {P(ack, 99),6:F1} ms | downstream p50 {P(call, 50),6:F1} p90 {P(call, 90),6:F1} p99 {P(call, 99),7:F1} max {call[^1],7:F1} ms" +
                    (hostOnly ? "" : $" | wrk -c50 {rps,7:F0} acks/s p99 {p99,6:F1} ms"));
                // Let the pipeline drain what wrk left before the next variant's events are timed.
                await Task.Delay(TimeSpan.FromSeconds(5));
            }
        }
        Console.WriteLine();
        Console.WriteLine($"{rounds} rounds of {events} events one at a time ({gap.TotalSeconds:F1} s idle between), min / median / max over rounds:");
        foreach (var (name, list) in results)
        {
            string R(Func<(double[] Ack, double[] Call, double Rps, double P99), double> pick, string format = "F1") => LoadRun.Range(list.Select(pick), format);
            Console.WriteLine($"{name,-18} POST → 202 p50 {R(r => P(r.Ack, 50))} p99 {R(r => P(r.Ack, 99))} ms; POST → downstream p50 {R(r => P(r.Call, 50))} p90 {R(r => P(r.Call, 90))} max {R(r => r.Call[^1])} ms" +
                (hostOnly ? "" : $"; intake at 50 connections {R(r => r.Rps, "F0")} acks/s, p99 {R(r => r.P99)} ms"));
        }
        await host.StopAsync();
        await storage.DisposeAsync();
        if (!hostOnly) await IntakeOnlyAsync(relayJson, settings, script, rounds, wrkSeconds);
        File.Delete(config);
        return 0;
    }

    /// <summary>
    /// Intake alone through the host (the pipeline functions disabled, its own Azurite), beside the host's trivial
    /// health function as the baseline: what the host and the isolated worker cost per request before any work.
    /// </summary>
    private static async Task IntakeOnlyAsync(string relayJson, Dictionary<string, string> settings, string script, int rounds, int wrkSeconds)
    {
        var storage = Azurite.Own();
        await storage.InitializeAsync();
        var intakeOnly = new Dictionary<string, string>(settings)
        {
            ["AzureWebJobs.RouteDbtEvent.Disabled"] = "true",
            ["AzureWebJobs.DeliverSync.Disabled"] = "true",
        };
        await using (var host = await FunctionsHost.StartAsync(relayJson, storage.ConnectionString, intakeOnly))
        {
            var webhook = new List<(double Rps, double P99)>();
            var health = new List<(double Rps, double P99)>();
            var puts = new List<double>();
            var queue = DbtRelay.AzureStorage.StorageClients.FromConnectionString(storage.ConnectionString).Queue("azure-path-puts");
            await queue.CreateIfNotExistsAsync();
            await LoadRun.WrkAsync(host.Url("api/dbt/webhook").ToString(), script, 3);
            for (var round = 1; round <= rounds; round++)
            {
                health.Add(await LoadRun.WrkAsync(host.Url("api/health").ToString(), null, wrkSeconds));
                webhook.Add(await LoadRun.WrkAsync(host.Url("api/dbt/webhook").ToString(), script, wrkSeconds));
                puts.Add(await PutsPerSecondAsync(queue, wrkSeconds));
                Console.WriteLine($"round {round} host, pipeline off: GET /api/health {health[^1].Rps,7:F0} req/s p99 {health[^1].P99,6:F1} ms | webhook {webhook[^1].Rps,7:F0} acks/s p99 {webhook[^1].P99,6:F1} ms | Azurite alone {puts[^1],6:F0} puts/s");
            }
            Console.WriteLine($"Functions host, pipeline functions disabled, wrk -c50: GET /api/health {LoadRun.Range(health.Select(h => h.Rps), "F0")} req/s (p99 {LoadRun.Range(health.Select(h => h.P99), "F1")} ms); " +
                $"webhook {LoadRun.Range(webhook.Select(h => h.Rps), "F0")} acks/s (p99 {LoadRun.Range(webhook.Select(h => h.P99), "F1")} ms); " +
                $"1 KiB messages put straight into Azurite, 50 at once: {LoadRun.Range(puts, "F0")} puts/s");
        }
        await storage.DisposeAsync();
    }

    /// <summary>What the emulator takes with nothing in front of it: 1 KiB messages, 50 in flight.</summary>
    private static async Task<double> PutsPerSecondAsync(Azure.Storage.Queues.QueueClient queue, int seconds)
    {
        var body = Payloads.OneKiB;
        var count = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
            {
                await queue.SendMessageAsync(body);
                Interlocked.Increment(ref count);
            }
        }));
        await queue.ClearMessagesAsync();
        return count / clock.Elapsed.TotalSeconds;
    }

    /// <summary>Only the intake-alone measurement (<c>--intake-only</c>).</summary>
    public static async Task<int> IntakeOnlyRunAsync(int rounds, int wrkSeconds)
    {
        var relayJson = """
            { "webhooks": [ { "name": "load", "secret": "load-secret" } ],
              "targets": { "sink": { "type": "http", "url": "http://127.0.0.1:9/sync" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """;
        var settings = new Dictionary<string, string> { ["Secrets__load-secret"] = "load-secret", ["AzureFunctionsJobHost__logging__logLevel__Function"] = "Warning" };
        await IntakeOnlyAsync(relayJson, settings, await LoadRun.WriteScriptAsync(), rounds, wrkSeconds);
        return 0;
    }

    private static async Task<(Uri, Func<Task>)> StartServeAsync(string config, ServeStore store)
    {
        var app = ServeHost.Build(config, "http://127.0.0.1:0", Console.Error, store, new Dictionary<string, string?>
        {
            ["Secrets:load-secret"] = "load-secret",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:DbtRelay"] = "Warning",
        }) ?? throw new InvalidOperationException("relay config invalid");
        await ServeHost.StartAsync(app, Console.Error);
        return (new Uri(ServeHost.Addresses(app).Single() + RelayCli.WebhookPath), async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        });
    }

    private static double P(double[] sorted, int percentile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
}
