using System.Diagnostics;
using System.Text;
using DbtRelay.Delivery.Ledger;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Delivery;

/// <summary>
/// Coalescing for a target with a <c>coalesce</c> window: the first event routed to it opens a window, the events routed
/// to it before the window closes join it, and when it closes one call is made, with the latest event's values, for all
/// of them. The state lives in the store beside the ledger, so every instance joins the same window:
/// <c>coalesce/{target}/open</c> names the open window, <c>coalesce/{target}/windows/{id}</c> lists its events, and
/// <c>coalesce/{target}/chosen/{event}</c> remembers which window an event chose, so handling its message again (after a
/// crash) joins no second window. The caller holds the event's own ledger claim for the target throughout a join.
/// </summary>
public sealed partial class TargetCoalescer(IConditionalStore store, IRelayQueues queues, TimeProvider time, ILogger<TargetCoalescer> logger)
{
    /// <summary>The most events one window covers; an event finding the window full is delivered on its own.</summary>
    public const int MaxEvents = 50;

    /// <summary>
    /// Adds the event of <paramref name="delivery"/> to the target's open window, or opens one for <paramref name="length"/>
    /// and queues its closing; the window joined, or null when it is full (deliver the event on its own).
    /// </summary>
    public async Task<CoalesceWindow?> JoinAsync(DeliveryMessage delivery, TimeSpan length, CancellationToken cancellationToken)
    {
        if (await EarlierChoiceAsync(delivery, cancellationToken).ConfigureAwait(false) is (true, var earlier)) return earlier;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var pointer = await store.ReadAsync(Key(delivery.Target, "open"), cancellationToken).ConfigureAwait(false);
            var open = pointer is var (pointerContent, _) ? DeliveryJson.DeserializeWindow(pointerContent.ToMemory()) : null;
            if (open is not null && open.ClosesAt > time.GetUtcNow() && open.Id != delivery.Event.EventId)
            {
                switch (await JoinOpenAsync(delivery, open, cancellationToken).ConfigureAwait(false))
                {
                    case Joined.Added:
                        return open;
                    case Joined.Full:
                        return null;
                }
                // Closed (or gone) under us: the pointer is stale, open the next window in its place.
            }
            if (await OpenAsync(delivery, length, pointer?.Version, cancellationToken).ConfigureAwait(false) is { } opened) return opened;
        }
        throw new InvalidOperationException($"the coalescing window of target '{delivery.Target}' kept changing under 20 tries");
    }

    /// <summary>
    /// What an earlier try of this same message chose: (true, the window it joined), (true, null) when it found a window
    /// full and goes on its own, or (false, null) when it chose nothing that stands.
    /// </summary>
    private async Task<(bool Decided, CoalesceWindow? Window)> EarlierChoiceAsync(DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        var e = delivery.Event;
        if (await store.ReadAsync(Key(delivery.Target, "chosen", e.EventId), cancellationToken).ConfigureAwait(false) is not var (content, _)) return (false, null);
        var chosen = Encoding.UTF8.GetString(content.ToMemory().Span);
        if (chosen.Length == 0) return (true, null);
        if (await ReadAsync(delivery.Target, chosen, cancellationToken).ConfigureAwait(false) is not var (earlier, _) || !earlier.Events.Contains(e.EventId))
        {
            return (false, null);
        }
        // Its opener may have died before queueing the closing: queue it again (a copy of a closing that already closed
        // the window is dropped, so the window still makes one series of calls).
        if (chosen == e.EventId && !earlier.Closed) await QueueClosingAsync(delivery, earlier.ClosesAt, cancellationToken).ConfigureAwait(false);
        return (true, new CoalesceWindow(earlier.Id, earlier.ClosesAt));
    }

    /// <summary>Adds the event to the open window <paramref name="open"/>, remembering the choice first.</summary>
    private async Task<Joined> JoinOpenAsync(DeliveryMessage delivery, CoalesceWindow open, CancellationToken cancellationToken)
    {
        var (e, target) = (delivery.Event, delivery.Target);
        var chosenKey = Key(target, "chosen", e.EventId);
        await store.WriteAsync(chosenKey, BinaryData.FromString(open.Id), cancellationToken).ConfigureAwait(false);
        var (joined, count) = await AddAsync(target, open.Id, delivery, cancellationToken).ConfigureAwait(false);
        if (joined == Joined.Added)
        {
            LogJoined(logger, e.EventId, target, open.Id, count, open.ClosesAt);
        }
        else if (joined == Joined.Full)
        {
            await store.WriteAsync(chosenKey, BinaryData.FromString(string.Empty), cancellationToken).ConfigureAwait(false);
            LogFull(logger, e.EventId, target, open.Id, MaxEvents);
        }
        return joined;
    }

    /// <summary>
    /// Opens a window named after this event, in place of the pointer at <paramref name="pointerVersion"/> (null: none yet),
    /// and queues its closing; null when another event opened one first (join that one instead).
    /// </summary>
    private async Task<CoalesceWindow?> OpenAsync(DeliveryMessage delivery, TimeSpan length, string? pointerVersion, CancellationToken cancellationToken)
    {
        var (e, target) = (delivery.Event, delivery.Target);
        var opened = new CoalescedEvents(e.EventId, time.GetUtcNow() + length, [e.EventId], e);
        await store.WriteAsync(Key(target, "chosen", e.EventId), BinaryData.FromString(e.EventId), cancellationToken).ConfigureAwait(false);
        var windowKey = Key(target, "windows", e.EventId);
        var created = await store.TryCreateAsync(windowKey, BinaryData.FromBytes(DeliveryJson.Serialize(opened)), cancellationToken).ConfigureAwait(false);
        if (created is null && await ReadAsync(target, e.EventId, cancellationToken).ConfigureAwait(false) is var (existing, _)) opened = existing;
        var next = BinaryData.FromBytes(DeliveryJson.Serialize(new CoalesceWindow(opened.Id, opened.ClosesAt)));
        var moved = pointerVersion is not null
            ? await store.TryReplaceAsync(Key(target, "open"), next, pointerVersion, cancellationToken).ConfigureAwait(false)
            : await store.TryCreateAsync(Key(target, "open"), next, cancellationToken).ConfigureAwait(false);
        if (moved is null)
        {
            // Another event opened a window first: drop ours (nobody else can have joined it).
            if (created is not null) await store.TryDeleteAsync(windowKey, created, cancellationToken).ConfigureAwait(false);
            return null;
        }
        await QueueClosingAsync(delivery, opened.ClosesAt, cancellationToken).ConfigureAwait(false);
        LogOpened(logger, e.EventId, target, opened.ClosesAt);
        return new CoalesceWindow(opened.Id, opened.ClosesAt);
    }

    /// <summary>
    /// Closes the window of the closing message <paramref name="delivery"/> (nothing joins it afterwards) and returns the
    /// call to make: the latest event's values, and how many events it covers. The same closing handled again gets the
    /// same answer; another closing of an already closed window (a copy queued by a retried join) gets null: drop it.
    /// Any other message (not a window's, or a window's call already made from its closing) comes back as it is.
    /// </summary>
    public async Task<DeliveryMessage?> CloseAsync(DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        if (delivery is not { Follow: null, Notice: null, Window: { Covers: 0 } window }) return delivery;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await ReadAsync(delivery.Target, window.Id, cancellationToken).ConfigureAwait(false) is not var (found, version))
            {
                // The window's record is gone (pruned after 30 days): the event that opened it is all that is known.
                return delivery with { Window = window with { Covers = 1 } };
            }
            if (found.Closed)
            {
                if (found.ClosedBy is { } by && by != window.Closing)
                {
                    LogCopyDropped(logger, delivery.Target, window.Id);
                    return null;
                }
            }
            else if (await store.TryReplaceAsync(Key(delivery.Target, "windows", window.Id),
                         BinaryData.FromBytes(DeliveryJson.Serialize(found with { Closed = true, ClosedBy = window.Closing })), version, cancellationToken)
                         .ConfigureAwait(false) is null)
            {
                continue; // an event joined meanwhile: close what it left
            }
            else
            {
                LogClosed(logger, delivery.Target, window.Id, found.Events.Count, found.Latest.EventId);
            }
            return delivery with { Event = found.Latest, Window = window with { Covers = found.Events.Count } };
        }
        throw new InvalidOperationException($"the coalescing window {window.Id} of target '{delivery.Target}' kept changing under 20 tries");
    }

    /// <summary>
    /// The events the window call <paramref name="delivery"/> (or a status check of its run) covers, oldest first (the
    /// opener alone when the window's record is gone); null when the delivery is not a window's call.
    /// </summary>
    public async Task<IReadOnlyList<string>?> CoveredAsync(DeliveryMessage delivery, CancellationToken cancellationToken) =>
        delivery.Window is not { } window ? null
        : await ReadAsync(delivery.Target, window.Id, cancellationToken).ConfigureAwait(false) is var (found, _) ? found.Events : [window.Id];

    /// <summary>The latest event of a window, whose values its call is made with; null when its record is gone.</summary>
    public async Task<Events.EventEnvelope?> LatestAsync(string target, string windowId, CancellationToken cancellationToken) =>
        await ReadAsync(target, windowId, cancellationToken).ConfigureAwait(false) is var (found, _) ? found.Latest : null;

    /// <summary>Adds the event to the window; what came of it, and how many events the window then covers.</summary>
    private async Task<(Joined Result, int Count)> AddAsync(string target, string windowId, DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        var e = delivery.Event;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await ReadAsync(target, windowId, cancellationToken).ConfigureAwait(false) is not var (found, version) || found.Closed) return (Joined.Closed, 0);
            if (found.Events.Contains(e.EventId)) return (Joined.Added, found.Events.Count);
            if (found.Events.Count >= MaxEvents) return (Joined.Full, found.Events.Count);
            // The call carries the latest event's values: the last received, whatever order the deliveries ran in.
            var latest = e.ReceivedAt >= found.Latest.ReceivedAt ? e : found.Latest;
            var joined = found with { Events = [.. found.Events, e.EventId], Latest = latest };
            if (await store.TryReplaceAsync(Key(target, "windows", windowId), BinaryData.FromBytes(DeliveryJson.Serialize(joined)), version, cancellationToken)
                .ConfigureAwait(false) is not null)
            {
                return (Joined.Added, joined.Events.Count);
            }
        }
        throw new InvalidOperationException($"the coalescing window {windowId} of target '{target}' kept changing under 20 tries");
    }

    private ValueTask QueueClosingAsync(DeliveryMessage delivery, DateTimeOffset closesAt, CancellationToken cancellationToken)
    {
        var closing = delivery with
        {
            Attempt = 1,
            LastReason = null,
            FirstQueuedAt = time.GetUtcNow(),
            Window = new CoalesceWindow(delivery.Event.EventId, closesAt) { Closing = Guid.NewGuid().ToString("N") },
            TraceParent = Activity.Current?.Id ?? delivery.TraceParent,
        };
        var wait = closesAt - time.GetUtcNow();
        return queues.EnqueueDeliveryAsync(closing, wait > TimeSpan.Zero ? wait : TimeSpan.Zero, cancellationToken);
    }

    private async Task<(CoalescedEvents Window, string Version)?> ReadAsync(string target, string windowId, CancellationToken cancellationToken) =>
        windowId.Length > 0 && await store.ReadAsync(Key(target, "windows", windowId), cancellationToken).ConfigureAwait(false) is var (content, version)
            ? (DeliveryJson.DeserializeCoalesced(content.ToMemory()), version)
            : null;

    private static string Key(string target, string kind, string? eventId = null) =>
        eventId is null ? $"coalesce/{target}/{kind}" : $"coalesce/{target}/{kind}/{LedgerKeys.Segment(eventId)}";

    private enum Joined
    {
        Added,
        Full,
        Closed,
    }

    [LoggerMessage(3301, LogLevel.Information, "{EventId} opened a coalescing window of {Target}: one call at {ClosesAt:u} covers every event routed to it until then.")]
    private static partial void LogOpened(ILogger logger, string eventId, string target, DateTimeOffset closesAt);

    [LoggerMessage(3302, LogLevel.Information, "{EventId} joined the coalescing window {WindowId} of {Target} ({Count} events; the call is made at {ClosesAt:u}).")]
    private static partial void LogJoined(ILogger logger, string eventId, string target, string windowId, int count, DateTimeOffset closesAt);

    [LoggerMessage(3303, LogLevel.Warning, "The coalescing window {WindowId} of {Target} already covers {Max} events: {EventId} is delivered on its own.")]
    private static partial void LogFull(ILogger logger, string eventId, string target, string windowId, int max);

    [LoggerMessage(3305, LogLevel.Debug, "Dropped a copy of the closing of window {WindowId} of {Target}: another closing closed it and makes its call.")]
    private static partial void LogCopyDropped(ILogger logger, string target, string windowId);

    [LoggerMessage(3304, LogLevel.Information, "Closed the coalescing window {WindowId} of {Target}: one call for {Count} events, with the values of {LatestEventId}.")]
    private static partial void LogClosed(ILogger logger, string target, string windowId, int count, string latestEventId);
}
