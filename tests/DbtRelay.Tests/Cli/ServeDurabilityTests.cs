using System.Collections.Concurrent;
using System.Net;
using DbtRelay.Cli;
using DbtRelay.Cli.Serve;
using DbtRelay.InProcess;
using DbtRelay.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// serve as a real process on its embedded database: killed with SIGKILL in the middle of a backlog, or stopped
/// while a retry waits, then started again on the same data.
/// </summary>
public sealed class ServeDurabilityTests(ITestOutputHelper log) : IAsyncLifetime
{
    private const string Secret = "durable-secret";
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-durable-").FullName;
    private readonly HttpClient _http = new();

    private string Database => Path.Combine(_folder, "relay.db");

    private async Task<string> ConfigAsync(FakeHttpEndpoint downstream)
    {
        var path = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(path, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "sink": { "type": "http", "method": "POST", "url": "{{{downstream.BaseUrl}}}sync/{{eventId}}" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """);
        return path;
    }

    private static Dictionary<string, string> Environment(params (string Key, string Value)[] more)
    {
        var environment = new Dictionary<string, string> { ["Secrets__dbt-webhook"] = Secret };
        foreach (var (key, value) in more) environment[key] = value;
        return environment;
    }

    private async Task<HttpStatusCode?> PostAsync(Uri webhook, string eventId)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId));
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(Secret, body));
        try
        {
            using var response = await _http.SendAsync(request);
            return response.StatusCode;
        }
        catch (HttpRequestException)
        {
            return null; // the process is gone: no answer, so dbt would send it again
        }
    }

    [Fact]
    public async Task Every_event_answered_202_is_delivered_after_a_SIGKILL_mid_backlog_and_a_restart_on_the_same_data()
    {
        await using var downstream = new FakeHttpEndpoint(delay: TimeSpan.FromMilliseconds(50));
        var config = await ConfigAsync(downstream);
        var acked = new ConcurrentBag<string>();
        var serve = await ServeProcess.StartAsync(config, ["--data", Database], Environment());

        // Events keep arriving while serve is killed, as they would from dbt Cloud.
        using var stopSending = new CancellationTokenSource();
        var sending = Parallel.ForAsync(0, 2000, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = stopSending.Token }, async (i, _) =>
        {
            if (await PostAsync(serve.Webhook, $"wev_kill_{i:D4}") == HttpStatusCode.Accepted) acked.Add($"wev_kill_{i:D4}");
        });
        await Eventually.True(() => acked.Count >= 300, TimeSpan.FromSeconds(60));
        await serve.KillAsync();
        await stopSending.CancelAsync();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default);
        var calledBeforeKill = downstream.Received.Count;

        await using var restarted = await ServeProcess.StartAsync(config, ["--data", Database], Environment());
        var called = () => downstream.Received.Select(r => r.PathAndQuery["/sync/".Length..]).ToList();
        try
        {
            await Eventually.True(() => acked.All(called().ToHashSet().Contains), TimeSpan.FromSeconds(90));
        }
        catch
        {
            var missing = acked.Except(called()).Order().ToList();
            log.WriteLine($"acked {acked.Count}, called {called().Count}, missing {missing.Count}: {string.Join(", ", missing.Take(20))}\n--- first serve:\n{serve.Output}\n--- restarted:\n{restarted.Output}");
            throw;
        }

        Assert.True(calledBeforeKill < acked.Count, $"no backlog at the kill ({calledBeforeKill} of {acked.Count} delivered): the test proved nothing");
        var duplicates = called().Count - called().Distinct().Count();
        log.WriteLine($"202s before the kill: {acked.Count}; delivered before it: {calledBeforeKill}; after the restart every 202 was delivered; calls made twice: {duplicates}");
        Assert.InRange(duplicates, 0, PipelineOptions.DefaultDeliveryConcurrency);
    }

    [Fact]
    public async Task A_delivery_waiting_for_its_retry_delay_is_retried_after_serve_is_stopped_and_started_again()
    {
        await using var downstream = new FakeHttpEndpoint();
        downstream.Script(new ScriptedAnswer(503));
        var config = await ConfigAsync(downstream);
        var settings = Environment(("Delivery__InitialDelay", "00:00:03"), ("Delivery__Jitter", "0"), ("Logging__LogLevel__DbtRelay", "Information"));
        var serve = await ServeProcess.StartAsync(config, ["--data", Database], settings);

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(serve.Webhook, "wev_retry_later"));
        await Eventually.True(() => downstream.Received.Count == 1);
        await serve.StopGracefullyAsync();
        var stopped = serve.Output;
        await serve.DisposeAsync();
        await using var restarted = await ServeProcess.StartAsync(config, ["--data", Database], settings);
        await Eventually.True(() => downstream.Received.Count == 2, TimeSpan.FromSeconds(30));

        Assert.Contains("waiting for a retry delay; they are stored and resume", stopped, StringComparison.Ordinal);
        Assert.All(downstream.Received, r => Assert.Equal("/sync/wev_retry_later", r.PathAndQuery));
        await Task.Delay(500);
        Assert.Equal(2, downstream.Received.Count);
    }

    [Fact]
    public async Task A_dbt_job_being_triggered_when_serve_is_killed_is_not_started_again_after_the_restart()
    {
        await using var dbt = new FakeDbtCloud("dbt-token", 12345);
        // dbt Cloud creates the run, then is slow to answer: serve is killed while it waits.
        dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(30), RunNormallyFirst: true));
        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "marts": { "type": "dbt-cloud-job", "accessUrl": "{{{dbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 12345, "jobId": 77,
                                      "token": "dbt-token", "timeoutSeconds": 60 } },
              "routes": [ { "name": "all", "when": {}, "targets": ["marts"] } ] }
            """);
        var settings = Environment(("Secrets__dbt-token", "dbt-token"));
        var serve = await ServeProcess.StartAsync(config, ["--data", Database], settings);

        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(serve.Webhook, "wev_killed_mid_trigger"));
        await Eventually.True(() => !dbt.Runs.IsEmpty, TimeSpan.FromSeconds(30));
        await serve.KillAsync();
        await using var restarted = await ServeProcess.StartAsync(config, ["--data", Database], settings);
        await Eventually.True(() => dbt.Calls("GET", "/api/v2/accounts/12345/runs/") == 1, TimeSpan.FromSeconds(30));
        await Task.Delay(1000); // room for a second trigger, were one coming

        Assert.Equal(1, dbt.Triggers);
        Assert.Contains("wev_killed_mid_trigger", Assert.Single(dbt.Runs).Value.Cause, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_serve_on_the_same_database_refuses_to_start_and_says_why()
    {
        await using var downstream = new FakeHttpEndpoint();
        var config = await ConfigAsync(downstream);
        await using var first = await ServeProcess.StartAsync(config, ["--data", Database], Environment());

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => ServeProcess.StartAsync(config, ["--data", Database], Environment()));

        Assert.Contains("in use by another dbt-relay serve", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_database_stops_taking_writes_intake_answers_503_not_202()
    {
        await using var downstream = new FakeHttpEndpoint();
        var config = await ConfigAsync(downstream);
        var error = new StringWriter();
        await using var app = ServeHost.Build(config, "http://127.0.0.1:0", error, new ServeStore.Embedded(Database),
            new Dictionary<string, string?> { ["Secrets:dbt-webhook"] = Secret }) ?? throw new InvalidOperationException(error.ToString());
        Assert.True(await ServeHost.StartAsync(app, error), error.ToString());
        var webhook = new Uri(ServeHost.Addresses(app).Single() + RelayCli.WebhookPath);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(webhook, "wev_stored"));

        await app.Services.GetRequiredService<SqliteDatabase>().DisposeAsync(); // the store fails from here on
        var answer = await PostAsync(webhook, "wev_not_stored");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer);
        await app.StopAsync();
    }

    [Theory]
    [InlineData(2)]
    [InlineData(6)]
    public async Task Deliveries_in_flight_follow_the_pipeline_concurrency_setting(int concurrency)
    {
        await using var downstream = new FakeHttpEndpoint(delay: TimeSpan.FromMilliseconds(300));
        var config = await ConfigAsync(downstream);
        var error = new StringWriter();
        await using var app = ServeHost.Build(config, "http://127.0.0.1:0", error, new ServeStore.InMemory(), new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook"] = Secret,
            ["Pipeline:DeliveryConcurrency"] = concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }) ?? throw new InvalidOperationException(error.ToString());
        Assert.True(await ServeHost.StartAsync(app, error), error.ToString());
        var webhook = new Uri(ServeHost.Addresses(app).Single() + RelayCli.WebhookPath);

        for (var i = 0; i < 12; i++) Assert.Equal(HttpStatusCode.Accepted, await PostAsync(webhook, $"wev_conc_{concurrency}_{i}"));
        await Eventually.True(() => downstream.Received.Count == 12);
        await app.StopAsync();

        Assert.Equal(concurrency, downstream.MaxInFlight);
    }

    [Fact]
    public async Task A_slow_target_takes_at_most_its_share_of_the_workers_so_a_fast_one_is_not_held_back()
    {
        await using var slow = new FakeHttpEndpoint(delay: TimeSpan.FromMilliseconds(300));
        await using var fast = new FakeHttpEndpoint();
        var config = Path.Combine(_folder, "two-targets.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "slow": { "type": "http", "url": "{{{slow.BaseUrl}}}sync" }, "fast": { "type": "http", "url": "{{{fast.BaseUrl}}}sync" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["slow", "fast"] } ] }
            """);
        var error = new StringWriter();
        await using var app = ServeHost.Build(config, "http://127.0.0.1:0", error, new ServeStore.InMemory(), new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook"] = Secret,
            ["Pipeline:DeliveryConcurrency"] = "4",
            ["Pipeline:MaxPerTarget"] = "2",
        }) ?? throw new InvalidOperationException(error.ToString());
        Assert.True(await ServeHost.StartAsync(app, error), error.ToString());
        var webhook = new Uri(ServeHost.Addresses(app).Single() + RelayCli.WebhookPath);

        for (var i = 0; i < 12; i++) Assert.Equal(HttpStatusCode.Accepted, await PostAsync(webhook, $"wev_share_{i}"));
        await Eventually.True(() => fast.Received.Count == 12);
        var slowWhenFastWasDone = slow.Received.Count;
        await app.StopAsync(); // the drain still delivers every slow one, deferred or not

        Assert.Equal(2, slow.MaxInFlight);
        Assert.InRange(slowWhenFastWasDone, 0, 8); // 12 slow calls at 2 × 300 ms take ~1.8 s; the fast ones did not wait for them
        Assert.Equal(12, slow.Received.Count);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _http.Dispose();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }
}
