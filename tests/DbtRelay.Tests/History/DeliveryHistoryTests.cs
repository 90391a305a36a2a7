using DbtRelay.History;
using DbtRelay.InProcess;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.Logging.Abstractions;

namespace DbtRelay.Tests.History;

/// <summary>The delivery history over the in-memory store (serve --in-memory, tests), and the query rules of the API.</summary>
public sealed class DeliveryHistoryTests
{
    [Fact]
    public Task Events_are_listed_newest_first_filtered_paged_and_every_concurrent_attempt_is_kept() =>
        HistoryScenario.RunAsync(new InMemoryConditionalStore());

    [Fact]
    public async Task An_attempt_without_a_routing_record_still_starts_the_events_timeline()
    {
        var history = new DeliveryHistory(new InMemoryConditionalStore(), new ManualTimeProvider(), NullLogger<DeliveryHistory>.Instance);
        var envelope = HistoryScenario.Event("wev_orphan", DateTimeOffset.UnixEpoch.AddYears(56));

        await history.RecordAttemptAsync(envelope, "crm", "rudderstack-retl", EventStatus.Delivered,
            new AttemptRecord(1, 0, envelope.ReceivedAt, EventStatus.Delivered, 200, 3, "sync_1", "syncId sync_1"), default);

        var listed = Assert.Single((await history.ListAsync(new EventQuery(), default)).Events);
        Assert.Equal(("wev_orphan", EventStatus.Delivered), (listed.EventId, listed.Status));
    }

    [Theory]
    [InlineData("since=yesterday", "since 'yesterday' is neither a time")]
    [InlineData("status=done", "status 'done' is not one of queued, delivered, retrying, dead-lettered, skipped")]
    [InlineData("limit=0", "limit must be a number from 1 to 200")]
    [InlineData("limit=201", "limit must be a number from 1 to 200")]
    public void A_query_typo_is_refused_with_what_is_accepted(string query, string problem)
    {
        var values = System.Web.HttpUtility.ParseQueryString(query);
        var (parsed, message) = EventQuery.Parse(values["since"], values["status"], null, null, values["limit"], null, DateTimeOffset.UnixEpoch);

        Assert.Null(parsed);
        Assert.StartsWith(problem, message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_age_counts_back_from_now()
    {
        var now = new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(now.AddHours(-24), EventQuery.Parse("24h", null, null, null, null, null, now).Query!.Since);
        Assert.Equal(now.AddMinutes(-30), EventQuery.Parse("30m", null, null, null, null, null, now).Query!.Since);
        Assert.Equal(new DateTimeOffset(2026, 11, 21, 0, 0, 0, TimeSpan.Zero), EventQuery.Parse("2026-11-21T00:00:00Z", null, null, null, null, null, now).Query!.Since);
    }
}
