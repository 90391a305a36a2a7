using DbtRelay.Delivery;
using DbtRelay.Routing;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;

namespace DbtRelay.Tests.AzureStorage;

/// <summary>Several relay instances on one storage account, as several Functions instances of one app.</summary>
[Collection(AzuriteTests.Name)]
public sealed class SharedStorageDeliveryTests(Azurite azurite) : IAsyncLifetime
{
    private readonly FakeHttpEndpoint _downstream = new();

    private string RelayJsonText => $$$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": { "sink": { "type": "http", "method": "POST", "url": "{{{_downstream.BaseUrl}}}sync/{{eventId}}" } },
          "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
        """;

    [SkippableFact]
    public async Task Two_instances_racing_on_the_same_deliveries_call_each_event_once()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        await using var one = new AzureRelayInstance(storage, RelayJsonText);
        await using var two = new AzureRelayInstance(storage, RelayJsonText);
        var deliveries = new List<DeliveryMessage>();
        for (var i = 0; i < 10; i++)
        {
            var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: $"wev_race_{i}"));
            var accepted = Assert.IsType<Accepted>(await one.Get<WebhookIntake>().DecideAsync(body, DbtPayloads.Sign(AzureRelayInstance.WebhookSecret, body), default));
            deliveries.Add(new DeliveryMessage { Target = "sink", Attempt = 1, FirstQueuedAt = DateTimeOffset.UtcNow, Event = accepted.Envelope });
        }

        // Each delivery runs on both instances at once, twice over (a redelivered queue message).
        await Task.WhenAll(deliveries.SelectMany(d => new[] { one, two, one, two }.Select(instance =>
            instance.Get<DeliveryExecutor>().ExecuteAsync(d, default))));

        Assert.Equal(10, _downstream.Received.Count);
        Assert.Equal(10, _downstream.Received.Select(r => r.PathAndQuery).Distinct().Count());
        Assert.Empty(await AzureRelayInstance.ReceiveAllAsync(storage.Queue(QueueNames.DeadLetters)));
    }

    [SkippableFact]
    public async Task An_event_routed_by_two_instances_fans_out_once()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        await using var one = new AzureRelayInstance(storage, RelayJsonText);
        await using var two = new AzureRelayInstance(storage, RelayJsonText);
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_fanout"));
        var accepted = Assert.IsType<Accepted>(await one.Get<WebhookIntake>().DecideAsync(body, DbtPayloads.Sign(AzureRelayInstance.WebhookSecret, body), default));

        await Task.WhenAll(one.Get<EventRouter>().RouteAsync(accepted.Envelope, default), two.Get<EventRouter>().RouteAsync(accepted.Envelope, default));
        await one.Get<EventRouter>().RouteAsync(accepted.Envelope, default);

        Assert.Single(await AzureRelayInstance.ReceiveAllAsync(storage.Queue(QueueNames.Deliveries)));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _downstream.DisposeAsync();
}
