using System.Net;
using DbtRelay.Delivery;
using DbtRelay.Tests.Fakes;
using Xunit.Abstractions;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// Several serve processes on one storage account (Azurite here): they share the queues and the blob ledger, so
/// every event reaches every target once, whichever instance dbt's deliveries hit.
/// </summary>
[Collection(AzuriteTests.Name)]
public sealed class ServeOnAzureStorageTests(Azurite azurite, ITestOutputHelper log) : IAsyncLifetime
{
    private const string Secret = "shared-secret";
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-shared-").FullName;
    private readonly HttpClient _http = new();
    private readonly FakeHttpEndpoint _crm = new();
    private readonly FakeHttpEndpoint _alerts = new();

    [SkippableFact]
    public async Task Two_instances_given_600_events_each_delivered_5_times_call_each_target_exactly_600_times()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        foreach (var queue in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters }) await storage.Queue(queue).ClearMessagesAsync();
        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": {
                "crm": { "type": "http", "method": "POST", "url": "{{{_crm.BaseUrl}}}sync/{{eventId}}" },
                "alerts": { "type": "http", "method": "POST", "url": "{{{_alerts.BaseUrl}}}notify/{{eventId}}" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["crm", "alerts"] } ] }
            """);
        var environment = new Dictionary<string, string> { ["Secrets__dbt-webhook"] = Secret };
        await using var one = await ServeProcess.StartAsync(config, ["--storage", azurite.ConnectionString], environment);
        await using var two = await ServeProcess.StartAsync(config, ["--storage", azurite.ConnectionString], environment);
        var runId = Guid.NewGuid().ToString("N")[..8];

        var answers = new System.Collections.Concurrent.ConcurrentBag<HttpStatusCode>();
        await Parallel.ForAsync(0, 3000, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, cancellationToken) =>
        {
            // Each event five times (dbt's redeliveries), the copies spread over both instances.
            var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: $"wev_{runId}_{i % 600:D4}"));
            using var request = new HttpRequestMessage(HttpMethod.Post, i % 2 == 0 ? one.Webhook : two.Webhook) { Content = new ByteArrayContent(body) };
            request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(Secret, body));
            using var response = await _http.SendAsync(request, cancellationToken);
            answers.Add(response.StatusCode);
        });
        // Azurite answers every queue, ledger and history operation of both instances: minutes, not seconds.
        await Eventually.True(() => _crm.Received.Count >= 600 && _alerts.Received.Count >= 600, TimeSpan.FromMinutes(5));
        await Task.Delay(TimeSpan.FromSeconds(3)); // a late duplicate would arrive by now

        log.WriteLine($"crm {_crm.Received.Count} calls, alerts {_alerts.Received.Count} calls");
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a));
        Assert.Equal(600, _crm.Received.Count);
        Assert.Equal(600, _crm.Received.Select(r => r.PathAndQuery).Distinct().Count());
        Assert.Equal(600, _alerts.Received.Count);
        Assert.Equal(600, _alerts.Received.Select(r => r.PathAndQuery).Distinct().Count());
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _crm.DisposeAsync();
        await _alerts.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
