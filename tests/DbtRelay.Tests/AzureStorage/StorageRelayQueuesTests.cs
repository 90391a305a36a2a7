using System.Text.Json;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;

namespace DbtRelay.Tests.AzureStorage;

[Collection(AzuriteTests.Name)]
public sealed class StorageRelayQueuesTests(Azurite azurite)
{
    private static DeliveryMessage Delivery(string eventId, string target = "crm") => new()
    {
        Target = target,
        Attempt = 2,
        FirstQueuedAt = DateTimeOffset.UtcNow,
        LastReason = "HTTP 500",
        Event = new EventEnvelope
        {
            EventId = eventId,
            EventType = "job.run.completed",
            Webhook = "prod",
            ReceivedAt = DateTimeOffset.UtcNow,
            Body = "{}"u8.ToArray(),
        },
    };

    [SkippableFact]
    public async Task A_retry_is_invisible_until_its_delay_has_passed_and_then_arrives_intact()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);
        var deliveries = storage.Queue(QueueNames.Deliveries);

        await queues.EnqueueDeliveryAsync(Delivery("wev_later"), TimeSpan.FromSeconds(2), default);
        var early = (await deliveries.ReceiveMessagesAsync(32)).Value;
        await Eventually.True(async () => (await deliveries.PeekMessagesAsync(32)).Value.Length == 1);
        var due = Assert.Single((await deliveries.ReceiveMessagesAsync(32)).Value);

        Assert.Empty(early);
        var delivered = DeliveryJson.DeserializeDelivery(due.Body.ToMemory());
        Assert.Equal(("wev_later", "crm", 2), (delivered.Event.EventId, delivered.Target, delivered.Attempt));
    }

    [SkippableFact]
    public async Task Queued_messages_never_expire_and_are_plain_json_as_host_json_expects()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);

        await queues.EnqueueDeliveryAsync(Delivery("wev_kept"), TimeSpan.Zero, default);
        var peeked = Assert.Single((await storage.Queue(QueueNames.Deliveries).PeekMessagesAsync()).Value);

        Assert.True(peeked.ExpiresOn > DateTimeOffset.UtcNow.AddYears(100), $"expires {peeked.ExpiresOn}");
        using var json = JsonDocument.Parse(peeked.Body.ToString()); // not base64: messageEncoding "none"
        Assert.Equal("wev_kept", json.RootElement.GetProperty("event").GetProperty("eventId").GetString());
    }

    [SkippableFact]
    public async Task A_dead_letter_expires_after_90_days_like_serves_pruning()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);

        await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery("wev_dead"), Reason = "HTTP 400", FailedAt = DateTimeOffset.UtcNow }, default);
        var peeked = Assert.Single((await storage.Queue(QueueNames.DeadLetters).PeekMessagesAsync()).Value);

        Assert.InRange(peeked.ExpiresOn!.Value, DateTimeOffset.UtcNow.AddDays(90).AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(90).AddMinutes(5));
    }

    [SkippableFact]
    public async Task The_largest_valid_event_with_the_longest_ids_and_reasons_still_fits_every_queue_message()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);
        // DEL is one raw byte in the body and six once escaped in the envelope's fields: the worst case for size.
        var id = new string('\u007f', DbtEventReader.MaxFieldLength);
        var head = $$$"""{"eventId":"{{{id}}}","eventType":"{{{id}}}","webhookId":"{{{id}}}","data":{"jobId":"{{{id}}}","runId":"{{{id}}}","environmentId":"{{{id}}}","projectId":"{{{id}}}","runStatus":"{{{id}}}","padding":" """;
        var body = System.Text.Encoding.UTF8.GetBytes(head + new string('x', IntakeOptions.DefaultMaxBodyBytes - head.Length - 3) + "\"}}");
        var intake = new WebhookIntake(new StaticWebhookSecrets([new WebhookSecret("a-webhook-name-of-some-length", "s")]), queues,
            Microsoft.Extensions.Options.Options.Create(new IntakeOptions()), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<WebhookIntake>.Instance);

        var accepted = Assert.IsType<Accepted>(await intake.DecideAsync(body, DbtPayloads.Sign("s", body), default));
        var delivery = new DeliveryMessage
        {
            Target = "a-target-name-of-some-length", Attempt = 12, FirstQueuedAt = DateTimeOffset.UtcNow,
            LastReason = DeadLetter.Capped(new string('r', 5000)), Event = accepted.Envelope,
        };
        await queues.EnqueueDeliveryAsync(delivery, TimeSpan.Zero, default);
        await queues.DeadLetterAsync(new DeadLetter { Delivery = delivery, Reason = DeadLetter.Capped(new string('r', 5000)), FailedAt = DateTimeOffset.UtcNow }, default);

        Assert.Equal(IntakeOptions.DefaultMaxBodyBytes, body.Length);
        Assert.InRange(DeliveryJson.Serialize(new DeadLetter { Delivery = delivery, Reason = DeadLetter.Capped(new string('r', 5000)), FailedAt = DateTimeOffset.UtcNow }).Length, 60_000, 64 * 1024);
        var deadLetter = Assert.Single(await new StorageDeadLetters(storage, queues, TimeProvider.System).ListAsync(10, default));
        Assert.Equal(id, deadLetter.EventId);
    }

    [SkippableFact]
    public async Task Dead_letters_are_listed_without_being_taken_and_one_can_be_replayed_by_event_and_target()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);
        var deadLetters = new StorageDeadLetters(storage, queues, TimeProvider.System);
        foreach (var (eventId, target) in new[] { ("wev_a", "crm"), ("wev_b", "crm"), ("wev_b", "elementary") })
        {
            await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery(eventId, target), Reason = "HTTP 400 from target", FailedAt = DateTimeOffset.UtcNow }, default);
        }

        var listed = await deadLetters.ListAsync(100, default);
        var listedAgain = await deadLetters.ListAsync(100, default);
        var none = await deadLetters.ReplayAsync(10, new EventAndTarget("wev_nope", "crm"), default);
        var one = await deadLetters.ReplayAsync(10, new EventAndTarget("wev_b", "crm"), default);
        var left = await deadLetters.ListAsync(100, default);

        Assert.Equal(3, listed.Count);
        Assert.Equal(3, listedAgain.Count);
        Assert.Equal("HTTP 400 from target", listed[0].Reason);
        Assert.Equal((0, 1), (none, one));
        Assert.Equal(["wev_a/crm", "wev_b/elementary"], left.Select(d => $"{d.EventId}/{d.Target}").Order());
        var replayed = DeliveryJson.DeserializeDelivery(System.Text.Encoding.UTF8.GetBytes(
            Assert.Single(await AzureRelayInstance.ReceiveAllAsync(storage.Queue(QueueNames.Deliveries)))));
        Assert.Equal(("wev_b", "crm", 1), (replayed.Event.EventId, replayed.Target, replayed.Attempt));
        Assert.Equal("replayed after: HTTP 400 from target", replayed.LastReason);
    }

    [SkippableFact]
    public async Task Replaying_all_moves_every_dead_letter_up_to_the_limit()
    {
        var storage = await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString);
        var queues = new StorageRelayQueues(storage);
        var deadLetters = new StorageDeadLetters(storage, queues, TimeProvider.System);
        for (var i = 0; i < 40; i++)
        {
            await queues.DeadLetterAsync(new DeadLetter { Delivery = Delivery($"wev_{i}"), Reason = "gave up", FailedAt = DateTimeOffset.UtcNow }, default);
        }

        var first = await deadLetters.ReplayAsync(35, null, default);
        var rest = await deadLetters.ReplayAsync(100, null, default);

        Assert.Equal((35, 5), (first, rest));
        Assert.Empty(await deadLetters.ListAsync(100, default));
        Assert.Equal(40, (await AzureRelayInstance.ReceiveAllAsync(storage.Queue(QueueNames.Deliveries))).Count);
    }
}
