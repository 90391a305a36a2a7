using System.Globalization;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using Microsoft.Extensions.Logging;

namespace DbtRelay.History;

/// <summary>
/// Every accepted event's fate, kept in the ledger's own store (so it has the ledger's retention and needs no
/// other service): one small timeline document per event, updated with If-Match as targets report, and one index
/// entry per event whose key sorts newest first and whose content is the event itself (for redelivery). Written by
/// the router and the delivery executor, never on the intake path.
/// History is for people: a failed write is logged and the delivery goes on (the ledger stays the truth).
/// </summary>
public sealed partial class DeliveryHistory(IConditionalStore store, TimeProvider time, ILogger<DeliveryHistory> logger)
{
    private const string DocumentPrefix = "history/events/";
    private const string IndexPrefix = "history/index/";
    private const long LatestMs = 9_999_999_999_999; // year 2286: 13 digits keep the names sortable as text
    private const int MaxScanned = 1000;

    /// <summary>
    /// Records the routing verdict: the targets queued (each <c>queued</c> until it reports) and the routes that did
    /// not match. Merged into whatever a fast delivery already wrote, so it can follow the queueing instead of
    /// delaying it.
    /// </summary>
    public async Task RecordRoutedAsync(EventEnvelope envelope, IReadOnlyList<(string Target, string? Type)> targets, IReadOnlyList<string> notMatched, CancellationToken cancellationToken)
    {
        try
        {
            var routedAt = time.GetUtcNow();
            await UpdateAsync(envelope, timeline =>
            {
                var merged = timeline with { RoutedAt = timeline.RoutedAt ?? routedAt, NotMatched = notMatched };
                foreach (var (target, type) in targets)
                {
                    if (Find(merged, target) is null) merged = WithTarget(merged, new TargetTimeline(target, type, EventStatus.Queued, []));
                }
                return merged;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWriteFailed(logger, ex, envelope.EventId);
        }
    }

    /// <summary>
    /// Appends one attempt to a target's timeline and sets the target's state; a delivery sets the run it started
    /// (<paramref name="run"/>, null when not followed).
    /// </summary>
    public async Task RecordAttemptAsync(EventEnvelope envelope, string target, string? targetType, string state, AttemptRecord attempt, CancellationToken cancellationToken,
        RunRecord? run = null)
    {
        if (attempt.Covers is { Count: > 1 } covers)
        {
            // One call for a coalescing window: each other event it covers shows the same attempt, pointing at this one.
            var covered = attempt with { CoveredBy = envelope.EventId };
            foreach (var other in covers.Where(id => id != envelope.EventId))
            {
                await RecordAttemptAsync(other, null, target, targetType, state, covered, run, cancellationToken).ConfigureAwait(false);
            }
        }
        await RecordAttemptAsync(envelope.EventId, envelope, target, targetType, state, attempt, run, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordAttemptAsync(string eventId, EventEnvelope? envelope, string target, string? targetType, string state, AttemptRecord attempt, RunRecord? run,
        CancellationToken cancellationToken)
    {
        try
        {
            await UpdateAsync(eventId, envelope, timeline =>
            {
                var current = Find(timeline, target) ?? new TargetTimeline(target, targetType, EventStatus.Queued, []);
                // A first status check can be recorded before the delivery that queued it (another worker, a slow
                // write): what it saw of the same run stands.
                var checkedRun = state == EventStatus.Delivered && run is not null && current.Run is { Checks: > 0 } known && known.Id == run.Id ? known : null;
                return WithTarget(timeline, current with
                {
                    Type = targetType ?? current.Type,
                    State = checkedRun is null ? state : EventStatus.OfRun(checkedRun.State),
                    Attempts = [.. current.Attempts, attempt],
                    Run = state == EventStatus.Delivered ? checkedRun ?? run : current.Run,
                });
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWriteFailed(logger, ex, eventId);
        }
    }

    /// <summary>Appends an <c>onFailure</c> call to the timeline of the target whose run it was about.</summary>
    public async Task RecordNoticeAsync(EventEnvelope envelope, string aboutTarget, AttemptRecord attempt, CancellationToken cancellationToken)
    {
        try
        {
            await UpdateAsync(envelope, timeline =>
                Find(timeline, aboutTarget) is { } about ? WithTarget(timeline, about with { Notices = [.. about.Notices, attempt] }) : null,
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWriteFailed(logger, ex, envelope.EventId);
        }
    }

    /// <summary>
    /// Records what a status check saw of a followed run, and sets the target's state from it. A check of a run that
    /// a later redelivery superseded (<paramref name="redelivery"/> older than the target's last) changes nothing.
    /// </summary>
    public async Task RecordRunAsync(EventEnvelope envelope, string target, string? targetType, RunRecord run, int redelivery, CancellationToken cancellationToken,
        IReadOnlyList<string>? covers = null)
    {
        foreach (var other in (covers ?? []).Where(id => id != envelope.EventId))
        {
            await RecordRunAsync(other, null, target, targetType, run, redelivery, cancellationToken).ConfigureAwait(false);
        }
        await RecordRunAsync(envelope.EventId, envelope, target, targetType, run, redelivery, cancellationToken).ConfigureAwait(false);
    }

    private async Task RecordRunAsync(string eventId, EventEnvelope? envelope, string target, string? targetType, RunRecord run, int redelivery, CancellationToken cancellationToken)
    {
        try
        {
            await UpdateAsync(eventId, envelope, timeline =>
            {
                var current = Find(timeline, target) ?? new TargetTimeline(target, targetType, EventStatus.Delivered, []);
                if (redelivery < current.Redeliveries || current.Run is { } known && known.Id != run.Id) return null;
                // A redelivery under way (or dead-lettered) keeps its state; the run's news is still kept.
                var state = current.State is EventStatus.Queued or EventStatus.Retrying or EventStatus.DeadLettered ? current.State : EventStatus.OfRun(run.State);
                return WithTarget(timeline, current with { Run = run, State = state });
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogWriteFailed(logger, ex, eventId);
        }
    }

    /// <summary>
    /// Reserves the next redelivery number of (event, target) and marks the target queued; null when the event is
    /// not in the history. The number makes each deliberate redelivery its own ledger entry.
    /// </summary>
    public async Task<RedeliveryReservation?> ReserveRedeliveryAsync(string eventId, string target, string? targetType, CancellationToken cancellationToken)
    {
        if (await ReadAsync(eventId, cancellationToken).ConfigureAwait(false) is not { } found
            || await store.ReadAsync(IndexKey(found.Timeline.ReceivedAt, eventId), cancellationToken).ConfigureAwait(false) is not var (content, _))
        {
            return null;
        }
        var envelope = EventJson.DeserializeEnvelope(content.ToMemory());
        var number = 0;
        string? busy = null;
        int? deadLetteredAs = null;
        AttemptRecord? deadLetteredCall = null;
        // Checked and reserved in one conditional write: of concurrent requests for a finished target, one wins and
        // the others, reading again, find it queued.
        await UpdateAsync(envelope, timeline =>
        {
            var found = Find(timeline, target);
            if (found is { State: EventStatus.Queued or EventStatus.Retrying })
            {
                busy = found.State;
                return null;
            }
            var current = found ?? new TargetTimeline(target, targetType, EventStatus.Queued, []);
            busy = null;
            // A dead-lettered target's redelivery claims the dead-lettered attempt's own ledger entry (see DeliveryMessage).
            deadLetteredAs = current.State != EventStatus.DeadLettered ? null
                : current.Attempts is [.., var last] ? last.LedgerRedelivery ?? last.Redelivery : 0;
            // A dead-lettered coalesced call is made again as that one call, in its own ledger entry.
            deadLetteredCall = current.State == EventStatus.DeadLettered && current.Attempts is [.., { CoalescedIn: not null } call] ? call : null;
            number = current.Redeliveries + 1;
            return WithTarget(timeline, current with { State = EventStatus.Queued, Redeliveries = number });
        }, cancellationToken).ConfigureAwait(false);
        return new RedeliveryReservation(envelope, busy is null ? number : 0, busy, deadLetteredAs)
        {
            CoalescedIn = deadLetteredCall?.CoalescedIn, Covers = deadLetteredCall?.Covers,
        };
    }

    public async Task<EventTimeline?> GetAsync(string eventId, CancellationToken cancellationToken) =>
        (await ReadAsync(eventId, cancellationToken).ConfigureAwait(false))?.Timeline;

    /// <summary>
    /// Events newest first that match <paramref name="query"/>. Filters are applied to the documents, so one call
    /// looks at up to 1,000 events; when it stops there, <c>next</c> lets the caller go on.
    /// </summary>
    public async Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        var found = new List<EventSummary>(query.Limit);
        var after = query.After is null ? null : IndexPrefix + query.After;
        var scanned = 0;
        while (true)
        {
            var keys = await store.ListKeysAsync(IndexPrefix, after, 100, cancellationToken).ConfigureAwait(false);
            if (keys.Count == 0) return new EventPage(found, null);
            foreach (var key in keys)
            {
                after = key;
                scanned++;
                var (received, eventId) = ParseIndexKey(key);
                if (query.Since is { } since && received < since) return new EventPage(found, null);
                if (await ReadAsync(eventId, cancellationToken).ConfigureAwait(false) is { } item && query.Matches(item.Timeline))
                {
                    found.Add(EventSummary.Of(item.Timeline));
                    if (found.Count == query.Limit) return new EventPage(found, key[IndexPrefix.Length..]);
                }
                if (scanned >= MaxScanned) return new EventPage(found, key[IndexPrefix.Length..]);
            }
        }
    }

    /// <summary>Read, change, write if nobody wrote meanwhile, else again. A change that returns null writes nothing.</summary>
    private Task UpdateAsync(EventEnvelope envelope, Func<EventTimeline, EventTimeline?> change, CancellationToken cancellationToken) =>
        UpdateAsync(envelope.EventId, envelope, change, cancellationToken);

    /// <summary>As above; without <paramref name="envelope"/> only an event already in the history is changed.</summary>
    private async Task UpdateAsync(string eventId, EventEnvelope? envelope, Func<EventTimeline, EventTimeline?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (await ReadAsync(eventId, cancellationToken).ConfigureAwait(false) is { } current)
            {
                if (change(current.Timeline) is not { } changed) return;
                var next = Recomputed(changed);
                if (await store.TryReplaceAsync(DocumentKey(eventId), HistoryJson.Serialize(next), current.Version, cancellationToken).ConfigureAwait(false) is not null)
                {
                    return;
                }
            }
            else if (envelope is null)
            {
                return;
            }
            else
            {
                // No routing record (it failed, or was pruned): start one from the event, so the attempt is not lost.
                if (change(NewTimeline(envelope)) is not { } created) return;
                var next = Recomputed(created);
                if (await store.TryCreateAsync(DocumentKey(envelope.EventId), HistoryJson.Serialize(next), cancellationToken).ConfigureAwait(false) is not null)
                {
                    // The index entry holds the event, so a redelivery needs nothing else.
                    await store.WriteAsync(IndexKey(envelope.ReceivedAt, envelope.EventId), BinaryData.FromBytes(EventJson.Serialize(envelope)), cancellationToken)
                        .ConfigureAwait(false);
                    return;
                }
            }
            // Another target of the same event wrote in between: read again. Contention is bounded by the targets.
            if (attempt == 20) throw new InvalidOperationException($"history of {eventId} kept changing under 20 updates");
        }
    }

    private async Task<(EventTimeline Timeline, string Version)?> ReadAsync(string eventId, CancellationToken cancellationToken) =>
        await store.ReadAsync(DocumentKey(eventId), cancellationToken).ConfigureAwait(false) is var (content, version)
            ? (HistoryJson.DeserializeTimeline(content.ToMemory().Span), version)
            : null;

    private static TargetTimeline? Find(EventTimeline timeline, string target) => timeline.Targets.FirstOrDefault(t => t.Target == target);

    private static EventTimeline WithTarget(EventTimeline timeline, TargetTimeline target) => timeline with
    {
        Targets = timeline.Targets.Where(t => t.Target != target.Target).Append(target).OrderBy(t => t.Target, StringComparer.Ordinal).ToList(),
    };

    private static EventTimeline Recomputed(EventTimeline timeline) => timeline with { Status = EventStatus.Of(timeline.Targets) };

    private static EventTimeline NewTimeline(EventEnvelope e) => new()
    {
        EventId = e.EventId,
        ReceivedAt = e.ReceivedAt,
        Webhook = e.Webhook,
        EventType = e.EventType,
        AccountId = e.AccountId?.ToString(CultureInfo.InvariantCulture),
        ProjectId = e.ProjectId,
        EnvironmentId = e.EnvironmentId,
        JobId = e.JobId,
        RunId = e.RunId,
        RunStatus = e.RunStatus,
        Status = EventStatus.Queued,
    };

    private static string DocumentKey(string eventId) => DocumentPrefix + LedgerKeys.Segment(eventId);

    private static string IndexKey(DateTimeOffset receivedAt, string eventId) =>
        $"{IndexPrefix}{(LatestMs - receivedAt.ToUnixTimeMilliseconds()).ToString("D13", CultureInfo.InvariantCulture)}/{LedgerKeys.Segment(eventId)}";

    private static (DateTimeOffset Received, string EventId) ParseIndexKey(string key)
    {
        var rest = key.AsSpan(IndexPrefix.Length);
        var slash = rest.IndexOf('/');
        var inverted = long.Parse(rest[..slash], NumberStyles.None, CultureInfo.InvariantCulture);
        return (DateTimeOffset.FromUnixTimeMilliseconds(LatestMs - inverted), Uri.UnescapeDataString(rest[(slash + 1)..].ToString()));
    }

    [LoggerMessage(7001, LogLevel.Warning, "Could not record {EventId} in the delivery history; delivery is not affected.")]
    private static partial void LogWriteFailed(ILogger logger, Exception exception, string eventId);
}
