using System.Collections.Concurrent;
using System.Net;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using Xunit.Abstractions;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>
/// Hosts of their own: started with a configuration that cannot work, or killed with SIGKILL mid-backlog and started
/// again. In the host collection so that they never compete for the two cores with the shared host's tests.
/// </summary>
[Collection(HostTests.Name)]
public sealed class HostLifecycleTests(ITestOutputHelper log)
{
    private const string Secret = "lifecycle-secret";

    private static Dictionary<string, string> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string> { ["Secrets__dbt-webhook"] = Secret, ["Secrets__dbt-api-token"] = "dbt-token" };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    private static async Task<HttpStatusCode?> PostAsync(HttpClient http, FunctionsHost host, string eventId)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId));
        using var request = new HttpRequestMessage(HttpMethod.Post, host.Url("api/dbt/webhook")) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(Secret, body));
        try
        {
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null; // nothing listening: dbt would count a failure and send it again
        }
    }

    [SkippableFact]
    public async Task A_relay_json_with_mistakes_is_reported_by_the_host_one_line_each_and_no_function_runs()
    {
        FunctionsHost.RequireInstalled();
        var storage = Azurite.Own();
        await storage.InitializeAsync();
        await using var insights = new FakeApplicationInsights();
        try
        {
            await using var host = await FunctionsHost.StartAsync("""
                { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
                  "targets": { "crm": { "type": "rudderstak", "connectionId": "c1", "token": "rudderstack-token" } },
                  "routes": [ { "name": "after-marts", "when": {}, "targets": ["crm", "marts"] } ] }
                """, storage.ConnectionString, Settings(("APPLICATIONINSIGHTS_CONNECTION_STRING", insights.ConnectionString)), waitUntilRunning: false);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };

            await host.WaitForOutputAsync(line => line.Contains("DbtRelay did not start", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            var webhook = await PostAsync(http, host, "wev_never_accepted");
            var output = host.Output;
            log.WriteLine(output);

            Assert.NotEqual(HttpStatusCode.Accepted, webhook);
            Assert.Contains("error: relay.json $.targets.crm.type:", output, StringComparison.Ordinal);
            Assert.Contains("error: relay.json $.routes[0].targets[1]:", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", output, StringComparison.Ordinal);
            Assert.DoesNotContain("at DbtRelay.", output, StringComparison.Ordinal);
            Assert.DoesNotContain("Executing 'Functions.", output, StringComparison.Ordinal);
            // What Application Insights shows: the host's own telemetry carries the worker's error lines.
            await Eventually.True(() => insights.Traces().Any(t => t.Message.Contains("relay.json $.targets.crm.type:", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
            Assert.Equal("Error", insights.Traces().First(t => t.Message.Contains("relay.json $.targets.crm.type:", StringComparison.Ordinal)).Severity);
            await host.KillAsync(); // it is recycling itself and would take its time over a SIGTERM
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Azurite_started_without_skipApiVersionCheck_stops_the_app_with_azurites_advice()
    {
        FunctionsHost.RequireInstalled();
        var storage = Azurite.Own(skipApiVersionCheck: false);
        await storage.InitializeAsync();
        try
        {
            await using var host = await FunctionsHost.StartAsync("""
                { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ], "targets": {}, "routes": [] }
                """, storage.ConnectionString, Settings(), waitUntilRunning: false);

            var line = await host.WaitForOutputAsync(l => l.Contains("Cannot create the relay's queues", StringComparison.Ordinal), TimeSpan.FromMinutes(1));
            log.WriteLine(host.Output);

            Assert.Contains("error: ", line, StringComparison.Ordinal);
            Assert.Contains("--skipApiVersionCheck", line, StringComparison.Ordinal);
            await host.KillAsync();
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Every_accepted_event_is_delivered_after_the_host_is_killed_mid_backlog_and_no_dbt_job_starts_twice()
    {
        FunctionsHost.RequireInstalled();
        // Messages the killed host had taken stay invisible for ten minutes of the emulator's time; its clock is
        // moved on after the restart instead of the test waiting.
        var storage = Azurite.Own(movableClock: true);
        await storage.InitializeAsync();
        await using var sink = new FakeHttpEndpoint(delay: TimeSpan.FromMilliseconds(300));
        await using var dbt = new FakeDbtCloud("dbt-token", 1) { TriggerDelay = TimeSpan.FromSeconds(3) };
        var relayJson = $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": {
                "sink": { "type": "http", "method": "POST", "url": "{{{sink.BaseUrl}}}sync/{{eventId}}", "timeoutSeconds": 2 },
                "marts": { "type": "dbt-cloud-job", "accessUrl": "{{{dbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 1, "jobId": 9, "token": "dbt-api-token", "timeoutSeconds": 5,
                           "follow": false } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink", "marts"] } ] }
            """;
        // A dead worker's ledger lease runs out after timeout × 2 + LeaseMargin: 9 s for the sink, 15 s for dbt.
        var settings = Settings(("Delivery__LeaseMargin", "00:00:05"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var events = Enumerable.Range(0, 40).Select(i => $"wev_crash_{i:D2}").ToList();
        try
        {
            await using var host = await FunctionsHost.StartAsync(relayJson, storage.ConnectionString, settings);
            var answers = new ConcurrentDictionary<string, HttpStatusCode?>();
            await Parallel.ForEachAsync(events, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (id, _) => answers[id] = await PostAsync(http, host, id));
            // Killed while dbt Cloud has created runs it has not answered for yet, with most of the backlog to go.
            await Eventually.True(() => sink.Received.Count >= 8 && dbt.UnansweredTriggers >= 2, TimeSpan.FromSeconds(60));
            await host.KillAsync();
            var (sinkBefore, runsBefore) = (sink.Received.Count, dbt.Runs.Count);
            dbt.TriggerDelay = TimeSpan.Zero;

            // Past the ten-minute hold on what the dead host had taken, before the new host takes anything itself.
            await storage.AdvanceClockAsync(TimeSpan.FromMinutes(11));
            await using var restarted = await host.RestartAsync(storage.ConnectionString, settings);
            var called = () => sink.Received.Select(r => r.PathAndQuery["/sync/".Length..]).ToList();
            var started = () => dbt.Runs.Values.Select(r => events.Single(id => r.Cause.Contains(id, StringComparison.Ordinal))).ToList();
            try
            {
                await Eventually.True(() => events.All(called().Contains) && events.All(started().Contains), TimeSpan.FromMinutes(2));
                // Runs started before the kill count already; wait until the deliveries that started them are settled too.
                var queues = StorageClients.FromConnectionString(storage.ConnectionString);
                await Eventually.True(async () => (await queues.Queue(QueueNames.Deliveries).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0
                    && (await queues.Queue(QueueNames.Events).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, TimeSpan.FromMinutes(2));
            }
            finally
            {
                log.WriteLine($"before the kill: {sinkBefore} sink calls, {runsBefore} dbt runs; after: {called().Count} calls, {started().Count} runs\n--- restarted host:\n{restarted.Output}");
            }

            Assert.All(events, id => Assert.Equal(HttpStatusCode.Accepted, answers[id]));
            Assert.True(sinkBefore < events.Count, $"no backlog at the kill ({sinkBefore} of {events.Count} delivered): the test proved nothing");
            Assert.Equal(events.Order(), started().Order()); // one dbt run per event
            Assert.True(restarted.Output.Contains("already carries", StringComparison.Ordinal),
                "no dbt trigger was in flight at the kill (none was looked up after the restart): the test proved nothing");
            // Repeats only for calls in flight at the kill: at most what one instance takes at once (batchSize + newBatchThreshold).
            Assert.InRange(called().Count - events.Count, 0, 24);
        }
        finally
        {
            await storage.DisposeAsync();
        }
    }
}
