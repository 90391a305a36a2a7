using System.Diagnostics;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.History;
using DbtRelay.Telemetry;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Routing;

/// <summary>
/// Stage one of the pipeline: dedupe the event by eventId, match routes, and enqueue one delivery per target.
/// The fan-out is recorded only after the deliveries are queued, so a crash in between re-routes (and the
/// delivery ledger keeps each target at one call) instead of losing the event.
/// </summary>
public sealed partial class EventRouter(
    RelayConfig config,
    IDeliveryLedger ledger,
    IRelayQueues queues,
    DeliveryHistory history,
    TimeProvider time,
    ILogger<EventRouter> logger)
{
    // Routing takes milliseconds; the lease only bounds how long an event whose router died waits to be routed again
    // (a router that outlives it fans out twice, which the delivery ledger keeps at one call per target).
    private static readonly TimeSpan RoutingLease = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan BusyRecheck = TimeSpan.FromSeconds(4);

    public async Task<RouteResult> RouteAsync(EventEnvelope envelope, CancellationToken cancellationToken)
    {
        using var scope = logger.BeginScope(new EventLogScope(envelope));
        using var activity = RelayTelemetry.StartFrom("dbt-relay route", envelope.TraceParent)
            ?.SetTag(TelemetryTags.EventId, envelope.EventId).SetTag(TelemetryTags.JobId, envelope.JobId).SetTag(TelemetryTags.RunId, envelope.RunId);

        var claim = await ledger.TryClaimAsync(LedgerKeys.Routed(envelope.EventId), RoutingLease, cancellationToken).ConfigureAwait(false);
        if (claim.Status == ClaimStatus.Completed)
        {
            LogDuplicate(logger, envelope.EventId);
            return Counted(RouteResult.Duplicate);
        }
        if (claim.Status == ClaimStatus.Busy)
        {
            // Another copy is being routed now (dbt retried while the first was in flight): it normally finishes in
            // milliseconds, so look again in seconds; a crashed router's lease still runs out in RoutingLease.
            var leaseLeft = (claim.BusyUntil ?? time.GetUtcNow()) - time.GetUtcNow();
            var wait = (leaseLeft < BusyRecheck ? leaseLeft : BusyRecheck) + TimeSpan.FromSeconds(1);
            await queues.EnqueueEventAsync(envelope, wait, cancellationToken).ConfigureAwait(false);
            return RouteResult.Busy;
        }

        var verdicts = RouteMatcher.Explain(config, envelope);
        var targets = RouteMatcher.Targets(verdicts);
        try
        {
            var now = time.GetUtcNow();
            foreach (var target in targets)
            {
                var delivery = new DeliveryMessage { Target = target, Attempt = 1, FirstQueuedAt = now, Event = envelope, TraceParent = Activity.Current?.Id ?? envelope.TraceParent };
                await queues.EnqueueDeliveryAsync(delivery, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await ledger.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        await ledger.CompleteAsync(claim, targets.Count == 0 ? "no route matched" : string.Join(",", targets), cancellationToken).ConfigureAwait(false);
        // After the queueing, off the deliveries' path: merged with whatever their attempts wrote first.
        await history.RecordRoutedAsync(envelope,
            targets.Select(t => (t, config.Targets.TryGetValue(t, out var target) ? target.Type : null)).ToList(),
            verdicts.Where(v => !v.Matched).Select(v => $"{v.Route.Name}: {v.WhyNot}").ToList(), cancellationToken).ConfigureAwait(false);

        if (targets.Count == 0)
        {
            LogNoMatch(logger, envelope.EventId, envelope.EventType, envelope.JobId, envelope.RunStatus);
            return Counted(RouteResult.NoMatch);
        }
        LogFannedOut(logger, envelope.EventId, envelope.EventType, envelope.JobId, envelope.RunId, string.Join(", ", targets));
        return Counted(RouteResult.FannedOut);
    }

    private static RouteResult Counted(RouteResult result)
    {
        var name = result switch
        {
            RouteResult.FannedOut => "fanned_out",
            RouteResult.NoMatch => "no_match",
            _ => "duplicate",
        };
        RelayTelemetry.Routed.Add(1, new KeyValuePair<string, object?>("result", name));
        Activity.Current?.SetTag(TelemetryTags.Outcome, name);
        return result;
    }

    [LoggerMessage(2001, LogLevel.Debug, "Routed {EventId} ({EventType}, job {JobId}, run {RunId}) to {Targets}.")]
    private static partial void LogFannedOut(ILogger logger, string eventId, string eventType, string? jobId, string? runId, string targets);

    [LoggerMessage(2002, LogLevel.Debug, "No route matches {EventId} ({EventType}, job {JobId}, status {RunStatus}); nothing to do.")]
    private static partial void LogNoMatch(ILogger logger, string eventId, string eventType, string? jobId, string? runStatus);

    [LoggerMessage(2003, LogLevel.Debug, "{EventId} was already routed; ignoring the redelivery.")]
    private static partial void LogDuplicate(ILogger logger, string eventId);
}
