using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.History;
using Microsoft.Extensions.Logging.Abstractions;

namespace DbtRelay.Tests.Fakes;

/// <summary>
/// One scenario of the delivery history, run over every store (memory, SQLite, blobs on Azurite): three events,
/// concurrent attempts from four targets of one event, then the list (newest first, filters, pages) and timeline.
/// </summary>
internal static class HistoryScenario
{
    public static EventEnvelope Event(string eventId, DateTimeOffset receivedAt, string jobId = "123") =>
        EventEnvelope.From(new DbtEventFacts(eventId, "job.run.completed", 1, null, jobId, "70000001", "456", "789", "Success", 10),
            "prod", receivedAt, DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId, jobId: jobId)));

    public static async Task RunAsync(IConditionalStore store)
    {
        var time = new ManualTimeProvider();
        var history = new DeliveryHistory(store, time, NullLogger<DeliveryHistory>.Instance);
        string[] targets = ["a", "b", "c", "d"];
        var first = Event("wev_h1", time.GetUtcNow());
        var second = Event("wev_h2", time.GetUtcNow().AddSeconds(1), jobId: "9");
        var third = Event("wev_h3", time.GetUtcNow().AddSeconds(2));
        await history.RecordRoutedAsync(first, [.. targets.Select(t => (t, (string?)"http"))], ["nightly: jobId 123 is not one of [9]"], default);
        await history.RecordRoutedAsync(second, [("a", "http")], [], default);
        await history.RecordRoutedAsync(third, [], ["only-route: eventType does not match"], default);

        // Four targets of one event report at once: every attempt must land (If-Match, read again on a conflict).
        await Task.WhenAll(targets.Select(t => history.RecordAttemptAsync(first, t, "http", t == "d" ? EventStatus.DeadLettered : EventStatus.Delivered,
            new AttemptRecord(1, 0, time.GetUtcNow(), t == "d" ? EventStatus.DeadLettered : EventStatus.Delivered, t == "d" ? 400 : 200, 12, t == "a" ? "sync_9" : null, "answered"), default)));
        await history.RecordAttemptAsync(second, "a", "http", EventStatus.Retrying, new AttemptRecord(1, 0, time.GetUtcNow(), EventStatus.Retrying, 503, 5, null, "answered 503"), default);

        var timeline = (await history.GetAsync("wev_h1", default))!;
        Assert.Equal(EventStatus.DeadLettered, timeline.Status);
        Assert.Equal(targets, timeline.Targets.Select(t => t.Target));
        Assert.All(timeline.Targets, t => Assert.Single(t.Attempts));
        Assert.Equal("sync_9", timeline.Targets[0].Attempts[0].DownstreamId);
        Assert.Equal(["nightly: jobId 123 is not one of [9]"], timeline.NotMatched);

        var all = await history.ListAsync(new EventQuery(), default);
        Assert.Equal(["wev_h3", "wev_h2", "wev_h1"], all.Events.Select(e => e.EventId));
        Assert.Equal([EventStatus.Skipped, EventStatus.Retrying, EventStatus.DeadLettered], all.Events.Select(e => e.Status));
        Assert.Null(all.Next);
        Assert.Equal("wev_h2", Assert.Single((await history.ListAsync(new EventQuery(JobId: "9"), default)).Events).EventId);
        Assert.Equal("wev_h1", Assert.Single((await history.ListAsync(new EventQuery(Target: "d"), default)).Events).EventId);
        Assert.Equal(["wev_h3", "wev_h2"], (await history.ListAsync(new EventQuery(Since: second.ReceivedAt), default)).Events.Select(e => e.EventId));

        var page = await history.ListAsync(new EventQuery(Limit: 2), default);
        Assert.Equal(["wev_h3", "wev_h2"], page.Events.Select(e => e.EventId));
        var rest = await history.ListAsync(new EventQuery(Limit: 2, After: page.Next), default);
        Assert.Equal("wev_h1", Assert.Single(rest.Events).EventId);

        var reserved = await history.ReserveRedeliveryAsync("wev_h1", "d", "http", default);
        Assert.Equal((1, null), (reserved!.Number, reserved.Busy));
        Assert.Equal(EventStatus.Queued, (await history.GetAsync("wev_h1", default))!.Status);
        Assert.Null(await history.ReserveRedeliveryAsync("wev_missing", "d", "http", default));
    }
}
