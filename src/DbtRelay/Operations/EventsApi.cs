using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.History;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Operations;

/// <summary>
/// The events API behind both hosts: list the history, show one event's timeline, redeliver. A host maps its
/// request to these calls and writes the <see cref="OpsAnswer"/> back; authentication is the host's (serve: the
/// admin key; Functions: function keys).
/// </summary>
public sealed partial class EventsApi(DeliveryHistory history, RelayConfig config, IRelayQueues queues, TargetCoalescer coalescer, TimeProvider time,
    ILogger<EventsApi> logger)
{
    public async Task<OpsAnswer> ListAsync(string? since, string? status, string? jobId, string? target, string? limit, string? after, CancellationToken cancellationToken)
    {
        var (query, problem) = EventQuery.Parse(since, status, jobId, target, limit, after, time.GetUtcNow());
        if (query is null) return Error(400, "invalid_query", problem!);
        return new OpsAnswer(200, HistoryJson.Serialize(await history.ListAsync(query, cancellationToken).ConfigureAwait(false)));
    }

    public async Task<OpsAnswer> GetAsync(string eventId, CancellationToken cancellationToken) =>
        await history.GetAsync(eventId, cancellationToken).ConfigureAwait(false) is { } timeline
            ? new OpsAnswer(200, HistoryJson.ToJson(timeline))
            : NotFound(eventId);

    /// <summary>
    /// Queues the event again for one target, or for all its targets, as a new first attempt with its own ledger
    /// entry: a target that was delivered is called again (that is the point), a dead-lettered one gets a fresh
    /// series of attempts. A target the pipeline is still working on (queued or retrying) is left alone.
    /// </summary>
    public async Task<OpsAnswer> RedeliverAsync(string eventId, string? target, CancellationToken cancellationToken)
    {
        if (await history.GetAsync(eventId, cancellationToken).ConfigureAwait(false) is not { } timeline) return NotFound(eventId);
        var known = timeline.Targets;
        if (target is not null && known.All(t => t.Target != target))
        {
            return Error(400, "unknown_target", known.Count == 0
                ? $"no route matched {eventId}, so it has no target to redeliver"
                : $"{eventId} was routed to {string.Join(", ", known.Select(t => t.Target))}, not to '{target}'");
        }
        if (known.Count == 0) return Error(400, "no_targets", $"no route matched {eventId}, so it has no target to redeliver");

        var redelivered = new List<Redelivered>();
        var skipped = new List<NotRedelivered>();
        foreach (var entry in known.Where(t => target is null || t.Target == target))
        {
            if (!config.Targets.TryGetValue(entry.Target, out var defined))
            {
                skipped.Add(new NotRedelivered(entry.Target, "no longer defined in relay.json"));
                continue;
            }
            // Whether the pipeline still has it (queued, retrying) is decided inside the reservation, atomically.
            if (await history.ReserveRedeliveryAsync(eventId, entry.Target, defined.Type, cancellationToken).ConfigureAwait(false) is not { } reservation) continue;
            if (reservation.Busy is { } busy)
            {
                skipped.Add(new NotRedelivered(entry.Target, $"still {busy}: the pipeline has not finished with it"));
                continue;
            }
            var (envelope, number) = (reservation.Event, reservation.Number);
            // A dead-lettered coalesced call is made again as that call: with its window's latest event's values.
            if (reservation.CoalescedIn is { } windowId && await coalescer.LatestAsync(entry.Target, windowId, cancellationToken).ConfigureAwait(false) is { } latest)
            {
                envelope = latest;
            }
            var message = new DeliveryMessage
            {
                Target = entry.Target, Attempt = 1, FirstQueuedAt = time.GetUtcNow(), Event = envelope, Redelivery = number, TraceParent = envelope.TraceParent,
                LedgerRedelivery = reservation.DeadLetteredAs,
                Window = reservation.CoalescedIn is { } window ? new CoalesceWindow(window, time.GetUtcNow()) { Covers = reservation.Covers?.Count ?? 1 } : null,
            };
            await queues.EnqueueDeliveryAsync(message, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            LogRedelivery(logger, eventId, entry.Target, number);
            redelivered.Add(new Redelivered(entry.Target, number));
        }
        var answer = new RedeliverAnswer(eventId, redelivered, skipped);
        return new OpsAnswer(redelivered.Count > 0 ? 202 : 409, OpsJson.Serialize(answer));
    }

    private static OpsAnswer NotFound(string eventId) =>
        Error(404, "not_found", $"no event {eventId} in the delivery history (wrong id, or older than the retention window)");

    private static OpsAnswer Error(int status, string error, string message) =>
        new(status, OpsJson.Serialize(new OpsError(error, message)));

    [LoggerMessage(7101, LogLevel.Warning, "Redelivery {Redelivery} of {EventId} to {Target} queued by an operator.")]
    private static partial void LogRedelivery(ILogger logger, string eventId, string target, int redelivery);
}
