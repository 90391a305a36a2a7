using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DbtRelay.Cli;
using DbtRelay.Cli.Serve;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Benchmarks;

/// <summary>
/// Ack throughput under wrk (2 threads, 50 connections, signed ~1 KiB bodies with 1,000 distinct event ids) against,
/// in interleaved rounds: a bare Kestrel app whose one MapPost reads the body and answers 202 (the baseline), serve
/// in memory, and serve on the embedded database (synchronous FULL). Each serve delivers to a local sink while it
/// is loaded. Each start gets an unmeasured warm-up (10 s in the first round, 3 s after). Prints min / median / max of requests/s and p99 per variant,
/// and each serve's ratio to the baseline.
/// </summary>
internal static partial class LoadRun
{
    internal const string Secret = "load-secret";

    /// <param name="rounds">Interleaved rounds: every variant once per round.</param>
    /// <param name="seconds">Measured seconds per variant and round.</param>
    /// <param name="compare">
    /// Directories holding other builds' dbt-relay.dll: each, and this build, then also run as their own
    /// <c>serve --in-memory</c> process in every round, for a before / after in the same run.
    /// </param>
    public static async Task<int> RunAsync(int rounds, int seconds, IReadOnlyList<string> compare)
    {
        var script = await WriteScriptAsync();
        var sink = await StartSinkAsync();
        var config = await WriteConfigAsync(sink);
        var variants = new Dictionary<string, Func<Task<(string Url, Func<Task> Stop)>>>
        {
            ["bare"] = () => InProcess(StartBareAsync()),
            ["serve --in-memory"] = () => InProcess(StartServeAsync(config, new ServeStore.InMemory())),
            ["serve (embedded, FULL)"] = () => InProcess(StartServeAsync(config, new ServeStore.Embedded(Path.Combine(Path.GetTempPath(), $"relay-load-{Guid.NewGuid():N}.db")))),
        };
        if (compare.Count > 0)
        {
            var builds = compare.Select(dir => ($"process {new DirectoryInfo(dir).Name}", dir))
                .Prepend(("process (this build)", Path.GetDirectoryName(typeof(ServeHost).Assembly.Location)!));
            foreach (var (name, dir) in builds)
            {
                var dll = Path.Combine(Path.GetFullPath(dir), "dbt-relay.dll");
                if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} does not exist (build that version first)");
                variants[name] = async () =>
                {
                    var serve = await ServeUnderLoad.StartAsync(dll, config, Secret);
                    return (serve.Url, async () => await serve.DisposeAsync());
                };
            }
        }
        var results = variants.Keys.ToDictionary(k => k, _ => new List<(double Rps, double P99)>());
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var (variant, start) in variants)
            {
                var (baseUrl, stop) = await start();
                var url = baseUrl + RelayCli.WebhookPath;
                // Unmeasured warm-up, so every variant is measured on tiered-up code, not on its JIT: longer the first
                // time (serve's first 10 s under load run at about half speed), then short, as this process keeps the code.
                await WrkAsync(url, script, round == 1 || variant.StartsWith("process", StringComparison.Ordinal) ? 10 : 3);
                var result = await WrkAsync(url, script, seconds);
                results[variant].Add(result);
                Console.WriteLine($"round {round} {variant,-24} {result.Rps,9:F0} req/s  p99 {result.P99,6:F2} ms");
                await stop();
            }
        }
        Console.WriteLine();
        Console.WriteLine($"wrk -t2 -c50 -d{seconds}s, {rounds} interleaved rounds, min / median / max:");
        var bare = results["bare"];
        foreach (var (variant, list) in results)
        {
            var line = $"{variant,-24} {Range(list.Select(r => r.Rps), "F0")} req/s   p99 {Range(list.Select(r => r.P99), "F2")} ms";
            if (variant != "bare")
            {
                var ratios = list.Zip(bare, (s, b) => (Rps: s.Rps / b.Rps, P99: s.P99 / b.P99)).ToList();
                line += $"   vs bare: {Range(ratios.Select(r => r.Rps), "F2")}x throughput, {Range(ratios.Select(r => r.P99), "F2")}x p99";
            }
            Console.WriteLine(line);
        }
        await sink.DisposeAsync();
        return 0;
    }

    internal static string Range(IEnumerable<double> values, string format)
    {
        var sorted = values.Order().ToArray();
        var median = sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        return $"{sorted[0].ToString(format, CultureInfo.InvariantCulture)} / {median.ToString(format, CultureInfo.InvariantCulture)} / {sorted[^1].ToString(format, CultureInfo.InvariantCulture)}";
    }

    internal static async Task<string> WriteScriptAsync()
    {
        var lua = new StringBuilder("local bodies = {}\nlocal signatures = {}\n");
        var key = Encoding.UTF8.GetBytes(Secret);
        for (var i = 1; i <= 1000; i++)
        {
            var body = Payloads.OneKiB.Replace("wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z", $"wev_load_{i:D6}", StringComparison.Ordinal);
            lua.Append(CultureInfo.InvariantCulture, $"bodies[{i}] = [==[{body}]==]\nsignatures[{i}] = \"{WebhookSignature.Compute(key, Encoding.UTF8.GetBytes(body))}\"\n");
        }
        lua.Append("""
            local n = 0
            request = function()
              n = n % 1000 + 1
              return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["Authorization"] = signatures[n] }, bodies[n])
            end
            """);
        var path = Path.Combine(Path.GetTempPath(), "dbt-relay-load.lua");
        await File.WriteAllTextAsync(path, lua.ToString());
        return path;
    }

    /// <summary>wrk -t2 -c50 for <paramref name="seconds"/>; without a <paramref name="script"/>, plain GETs.</summary>
    internal static async Task<(double Rps, double P99)> WrkAsync(string url, string? script, int seconds)
    {
        var start = new ProcessStartInfo("wrk", ["-t2", "-c50", $"-d{seconds}s", "--latency", .. script is null ? Array.Empty<string>() : ["-s", script], url]) { RedirectStandardOutput = true };
        using var wrk = Process.Start(start) ?? throw new InvalidOperationException("wrk is not installed (apt-get install wrk)");
        var output = await wrk.StandardOutput.ReadToEndAsync();
        await wrk.WaitForExitAsync();
        if (Regex.Match(output, @"Non-2xx or 3xx responses: (\d+)") is { Success: true } bad) throw new InvalidOperationException($"{bad.Groups[1].Value} requests were not accepted:\n{output}");
        var rps = double.Parse(RequestsPerSecond().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
        var p99 = P99().Match(output);
        var value = double.Parse(p99.Groups[1].Value, CultureInfo.InvariantCulture);
        var ms = p99.Groups[2].Value switch { "us" => value / 1000, "s" => value * 1000, _ => value };
        return (rps, ms);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"99%\s+([\d.]+)(us|ms|s)")]
    private static partial Regex P99();

    private static async Task<WebApplication> StartBareAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost(RelayCli.WebhookPath, async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            return Results.StatusCode(202);
        });
        await app.StartAsync();
        return app;
    }

    private static async Task<WebApplication> StartSinkAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/sync", () => Results.Ok());
        await app.StartAsync();
        return app;
    }

    private static async Task<(string Url, Func<Task> Stop)> InProcess(Task<WebApplication> starting)
    {
        var app = await starting;
        return (ServeHost.Addresses(app).Single(), async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        });
    }

    private static async Task<string> WriteConfigAsync(WebApplication sink)
    {
        var config = Path.Combine(Path.GetTempPath(), $"relay-load-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "load", "secret": "load-secret" } ],
              "targets": { "sink": { "type": "http", "url": "{{{ServeHost.Addresses(sink).Single()}}}/sync", "body": { "eventId": "{{eventId}}" } } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """);
        return config;
    }

    private static async Task<WebApplication> StartServeAsync(string config, ServeStore store)
    {
        var app = ServeHost.Build(config, "http://127.0.0.1:0", Console.Error, store, new Dictionary<string, string?>
        {
            [$"Secrets:{Secret}"] = Secret,
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:DbtRelay"] = "Warning",
        }) ?? throw new InvalidOperationException("relay config invalid");
        await ServeHost.StartAsync(app, Console.Error);
        return app;
    }
}
