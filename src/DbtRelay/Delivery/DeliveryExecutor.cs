using System.Diagnostics;
using DbtRelay.Config;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Delivery;

/// <summary>
/// Runs one delivery: claim (event, target) in the ledger, call the target, then complete, schedule a retry with
/// backoff, or dead-letter with the reason. Every message ends in exactly one of those; nothing is dropped.
/// </summary>
public sealed partial class DeliveryExecutor(
    RelayConfig config,
    IDeliveryLedger ledger,
    IRelayQueues queues,
    TargetCaller caller,
    RunFollower follower,
    TargetPauses pauses,
    TargetCoalescer coalescer,
    RateLimitCooldowns cooldowns,
    DeliveryHistory history,
    IOptions<RetryOptions> retryOptions,
    TimeProvider time,
    ILogger<DeliveryExecutor> logger)
{
    private readonly RetryOptions _retry = retryOptions.Value;

    public async Task<DeliveryResult> ExecuteAsync(DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        // A coalescing window's closing becomes its one call, with the latest event's values (nothing joins it afterwards).
        if (await coalescer.CloseAsync(delivery, cancellationToken).ConfigureAwait(false) is not { } call) return DeliveryResult.AlreadyDelivered;
        delivery = call;
        var e = delivery.Event;
        using var scope = logger.BeginScope(new EventLogScope(e, delivery.Target, delivery.Attempt));
        using var activity = RelayTelemetry.StartFrom($"dbt-relay deliver {delivery.Target}", delivery.TraceParent ?? e.TraceParent)
            ?.SetTag(TelemetryTags.EventId, e.EventId).SetTag(TelemetryTags.JobId, e.JobId).SetTag(TelemetryTags.RunId, e.RunId)
            .SetTag(TelemetryTags.Target, delivery.Target).SetTag(TelemetryTags.Attempt, delivery.Attempt);

        if (!config.Targets.TryGetValue(delivery.Target, out var target))
        {
            var unknown = new Failed($"target '{delivery.Target}' is not defined in relay.json (was it removed after routing?)");
            return await DeadLetterAsync(delivery, null, unknown, unknown.Detail, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        }
        if (await HoldAsync(delivery, target, cancellationToken).ConfigureAwait(false) is { } held) return held;

        var lease = target.Timeout * 2 + _retry.LeaseMargin;
        var claim = await ledger.TryClaimAsync(delivery.LedgerKey, lease, cancellationToken).ConfigureAwait(false);
        if (await NotOursAsync(delivery, claim, lease, cancellationToken).ConfigureAwait(false) is { } elsewhere) return elsewhere;
        if (await JoinWindowAsync(delivery, target, claim, cancellationToken).ConfigureAwait(false) is { } joined) return joined;
        if (delivery.Follow is not null)
        {
            await follower.CheckAsync(delivery, target, cancellationToken).ConfigureAwait(false);
            await ledger.CompleteAsync(claim, "checked", CancellationToken.None).ConfigureAwait(false);
            return DeliveryResult.Checked;
        }
        return await CallAsync(delivery, target, claim, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Puts the delivery back, unattempted and uncounted, when its target is paused (status checks of its runs go on) or
    /// its account is cooling down after a 429 (whichever target's call was told); null when it may go now.
    /// </summary>
    private async Task<DeliveryResult?> HoldAsync(DeliveryMessage delivery, IDeliveryTarget target, CancellationToken cancellationToken)
    {
        TimeSpan wait;
        string outcome;
        if (delivery.Follow is null && await pauses.GetAsync(target.Name, cancellationToken).ConfigureAwait(false) is { } paused)
        {
            (wait, outcome) = (pauses.UntilNextLook(delivery, paused), "held");
            LogHeld(logger, delivery.Event.EventId, target.Name, paused.By);
        }
        else if (target is IRateLimitedTarget limited && await cooldowns.UntilAsync(limited.RateLimitScope, cancellationToken).ConfigureAwait(false) is { } until)
        {
            (wait, outcome) = (until - time.GetUtcNow() + TimeSpan.FromSeconds(Random.Shared.Next(1, 10)), "cooling_down"); // spread the waiting calls out
            LogCoolingDown(logger, delivery.Event.EventId, target.Name, limited.RateLimitScope, (long)wait.TotalSeconds);
        }
        else
        {
            return null;
        }
        await queues.EnqueueDeliveryAsync(delivery, wait, cancellationToken).ConfigureAwait(false);
        RelayTelemetry.Deliveries.Add(1, new KeyValuePair<string, object?>("target", target.Name), new KeyValuePair<string, object?>("target_type", target.Type),
            new KeyValuePair<string, object?>("outcome", outcome));
        return DeliveryResult.Held;
    }

    /// <summary>What to do when the claim is not this worker's: done already, or being done by another; null when it is.</summary>
    private async Task<DeliveryResult?> NotOursAsync(DeliveryMessage delivery, LedgerClaim claim, TimeSpan lease, CancellationToken cancellationToken)
    {
        switch (claim.Status)
        {
            case ClaimStatus.Completed:
                LogDuplicate(logger, delivery.Event.EventId, delivery.Target, claim.Detail);
                return DeliveryResult.AlreadyDelivered;
            case ClaimStatus.Busy:
                // Another instance is calling this target for this event right now: look again when its lease ends
                // (never later than a lease this relay grants could last, whatever the stored entry says).
                var wait = claim.BusyUntil is { } until ? until - time.GetUtcNow() + TimeSpan.FromSeconds(1) : _retry.InitialDelay;
                if (wait > lease + TimeSpan.FromSeconds(1)) wait = lease + TimeSpan.FromSeconds(1);
                await queues.EnqueueDeliveryAsync(delivery, wait, cancellationToken).ConfigureAwait(false);
                LogBusy(logger, delivery.Event.EventId, delivery.Target, (long)wait.TotalMilliseconds);
                return DeliveryResult.RetryScheduled;
            default:
                return null;
        }
    }

    /// <summary>
    /// A first attempt to a coalescing target joins its window instead of calling (the claim, completed, keeps a copy
    /// from joining twice); null when the delivery is not coalesced (another kind, or the window is full).
    /// </summary>
    private async Task<DeliveryResult?> JoinWindowAsync(DeliveryMessage delivery, IDeliveryTarget target, LedgerClaim claim, CancellationToken cancellationToken)
    {
        if (delivery is not { Attempt: 1, Redelivery: 0, Replay: 0, Follow: null, Notice: null, Window: null } || !config.Coalesce.TryGetValue(target.Name, out var length)
            || await coalescer.JoinAsync(delivery, length, cancellationToken).ConfigureAwait(false) is not { } window)
        {
            return null;
        }
        await ledger.CompleteAsync(claim, $"coalesced into window {window.Id}", CancellationToken.None).ConfigureAwait(false);
        var detail = window.Id == delivery.Event.EventId
            ? $"opened a coalescing window: one call at {window.ClosesAt:u} covers every event routed here until then"
            : $"joined the coalescing window opened by {window.Id}: one call at {window.ClosesAt:u} covers it";
        RelayTelemetry.Deliveries.Add(1, new KeyValuePair<string, object?>("target", target.Name), new KeyValuePair<string, object?>("target_type", target.Type),
            new KeyValuePair<string, object?>("outcome", "coalesced"));
        await history.RecordAttemptAsync(delivery.Event, target.Name, target.Type, EventStatus.Queued,
            new AttemptRecord(delivery.Attempt, 0, time.GetUtcNow(), "coalesced", null, 0, null, detail), CancellationToken.None).ConfigureAwait(false);
        return DeliveryResult.Coalesced;
    }

    /// <summary>The call, then exactly one of: delivered (and its run followed), a retry with backoff, a dead letter.</summary>
    private async Task<DeliveryResult> CallAsync(DeliveryMessage delivery, IDeliveryTarget target, LedgerClaim claim, CancellationToken cancellationToken)
    {
        var e = delivery.Event;
        var started = time.GetTimestamp();
        var outcome = await caller.CallAsync(target, delivery, claim.TakenOver, cancellationToken).ConfigureAwait(false);
        var elapsed = time.GetElapsedTime(started);
        // The call is made: what it led to is written even when the host is shutting down meanwhile, or the
        // delivery would be made again.
        cancellationToken = CancellationToken.None;
        await pauses.RecordAttemptAsync(target.Name, failed: outcome is not CallAccepted, outcome.Detail, cancellationToken).ConfigureAwait(false);

        if (outcome is CallAccepted accepted)
        {
            // The first status check is queued before the claim is completed: a crash in between leaves the claim to
            // be taken over as a resumed attempt (as for any call), never a followed run without its check.
            var run = delivery.Notice is null && target is IFollowedTarget { Follow: { } follow } && RunFollower.CanFollow(accepted.DownstreamId)
                ? await follower.StartAsync(delivery, follow, accepted.DownstreamId!, cancellationToken).ConfigureAwait(false)
                : null;
            await ledger.CompleteAsync(claim, accepted.Detail, cancellationToken).ConfigureAwait(false);
            await RecordAsync(delivery, target.Type, EventStatus.Delivered, outcome, outcome.Detail, elapsed, cancellationToken, run).ConfigureAwait(false);
            LogDelivered(logger, e.EventId, e.RunId, e.JobId, target.Name, delivery.Attempt, accepted.Detail, (long)elapsed.TotalMilliseconds);
            return DeliveryResult.Delivered;
        }

        // The next step is stored before the claim is let go: a worker that dies in between leaves the claim to run
        // out, so whoever handles this message again takes it over as a resumed attempt (and looks before calling)
        // instead of claiming a free key as if nothing had been tried.
        if (outcome is RetryLater retry && delivery.Attempt < _retry.MaxAttempts)
        {
            var delay = _retry.DelayAfter(delivery.Attempt, retry.After, Random.Shared);
            var next = delivery with { Attempt = delivery.Attempt + 1, LastReason = DeadLetter.Capped(retry.Detail) };
            await queues.EnqueueDeliveryAsync(next, delay, cancellationToken).ConfigureAwait(false);
            await ledger.ReleaseAsync(claim, cancellationToken).ConfigureAwait(false);
            await RecordAsync(delivery, target.Type, EventStatus.Retrying, outcome, $"{retry.Detail}; next attempt in {(long)delay.TotalSeconds} s", elapsed, cancellationToken).ConfigureAwait(false);
            LogRetry(logger, e.EventId, e.RunId, e.JobId, target.Name, delivery.Attempt, retry.Detail, (long)elapsed.TotalMilliseconds, (long)delay.TotalMilliseconds);
            return DeliveryResult.RetryScheduled;
        }

        var reason = outcome is RetryLater ? $"gave up after {delivery.Attempt} attempts; last: {outcome.Detail}" : outcome.Detail;
        var result = await DeadLetterAsync(delivery, target.Type, outcome, reason, elapsed, cancellationToken).ConfigureAwait(false);
        await ledger.ReleaseAsync(claim, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// Dead-letters a delivery whose handling itself kept failing (a host gave up on its message), so it is listed,
    /// replayable and shown in the history like any other, instead of sitting in a poison queue nobody reads; a status
    /// check given up ends its run as unknown instead.
    /// </summary>
    public async Task<DeliveryResult> GiveUpAsync(DeliveryMessage delivery, string reason, CancellationToken cancellationToken)
    {
        var target = config.Targets.GetValueOrDefault(delivery.Target);
        // A closing given up is the window's call given up: closed first, so its dead letter covers every event.
        if (await coalescer.CloseAsync(delivery, cancellationToken).ConfigureAwait(false) is not { } call) return DeliveryResult.AlreadyDelivered;
        delivery = call;
        if (delivery.Follow is null) return await DeadLetterAsync(delivery, target?.Type, new Failed(reason), reason, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        // A status check is not a delivery: the call was made and stays made; what is lost is knowing how it ended.
        await follower.GiveUpAsync(delivery, target, reason, cancellationToken).ConfigureAwait(false);
        return DeliveryResult.Checked;
    }

    private async Task<DeliveryResult> DeadLetterAsync(DeliveryMessage delivery, string? targetType, TargetOutcome outcome, string reason, TimeSpan elapsed, CancellationToken cancellationToken)
    {
        await queues.DeadLetterAsync(new DeadLetter { Delivery = delivery, Reason = DeadLetter.Capped(reason), FailedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        await RecordAsync(delivery, targetType, EventStatus.DeadLettered, outcome, reason, elapsed, cancellationToken).ConfigureAwait(false);
        LogDeadLettered(logger, delivery.Event.EventId, delivery.Event.RunId, delivery.Event.JobId, delivery.Target, delivery.Attempt, reason);
        return DeliveryResult.DeadLettered;
    }

    private async Task RecordAsync(DeliveryMessage delivery, string? targetType, string state, TargetOutcome outcome, string detail, TimeSpan elapsed, CancellationToken cancellationToken,
        RunRecord? run = null)
    {
        var name = state switch
        {
            EventStatus.Delivered => "delivered",
            EventStatus.Retrying => "retried",
            _ => "dead_lettered",
        };
        var target = new KeyValuePair<string, object?>("target", delivery.Target);
        var type = new KeyValuePair<string, object?>("target_type", targetType ?? "unknown");
        RelayTelemetry.Deliveries.Add(1, target, type, new KeyValuePair<string, object?>("outcome", name));
        if (state == EventStatus.Delivered) RelayTelemetry.DeliveryLatency.Record((time.GetUtcNow() - delivery.Event.ReceivedAt).TotalSeconds, target, type);
        if (Activity.Current is { } activity)
        {
            activity.SetTag(TelemetryTags.TargetType, targetType).SetTag(TelemetryTags.Outcome, name).SetTag("http.response.status_code", outcome.HttpStatus);
            if (state != EventStatus.Delivered) activity.SetStatus(ActivityStatusCode.Error, DeadLetter.Capped(detail));
        }
        var attempt = new AttemptRecord(delivery.Attempt, delivery.Redelivery, time.GetUtcNow(), state, outcome.HttpStatus, (long)elapsed.TotalMilliseconds,
            outcome.DownstreamId, DeadLetter.Capped(detail))
        {
            LedgerRedelivery = delivery.LedgerRedelivery, Replay = delivery.Replay > 0 ? delivery.Replay : null, CoalescedIn = delivery.Window?.Id,
            Covers = await coalescer.CoveredAsync(delivery, cancellationToken).ConfigureAwait(false),
        };
        if (delivery.Notice is { } notice)
        {
            await history.RecordNoticeAsync(delivery.Event, notice.Target, attempt with { Notified = delivery.Target, AboutRun = notice.RunId }, cancellationToken).ConfigureAwait(false);
            return;
        }
        await history.RecordAttemptAsync(delivery.Event, delivery.Target, targetType, state, attempt, cancellationToken, run).ConfigureAwait(false);
    }

    [LoggerMessage(3001, LogLevel.Information, "Delivered {EventId} (run {RunId}, job {JobId}) to {Target} on attempt {Attempt}: {Detail} in {DurationMs} ms.")]
    private static partial void LogDelivered(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string detail, long durationMs);

    [LoggerMessage(3002, LogLevel.Warning, "Attempt {Attempt} to deliver {EventId} (run {RunId}, job {JobId}) to {Target} did not land: {Reason} ({DurationMs} ms). Retrying in {DelayMs} ms.")]
    private static partial void LogRetry(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string reason, long durationMs, long delayMs);

    [LoggerMessage(3003, LogLevel.Error, "Dead-lettered {EventId} (run {RunId}, job {JobId}) for {Target} after attempt {Attempt}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string reason);

    [LoggerMessage(3004, LogLevel.Debug, "{EventId} was already delivered to {Target} ({Detail}); skipping the duplicate.")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string target, string? detail);

    [LoggerMessage(3008, LogLevel.Debug, "{EventId} waits: target {Target} is paused (by {By}).")]
    private static partial void LogHeld(ILogger logger, string eventId, string target, string by);

    [LoggerMessage(3009, LogLevel.Debug, "{EventId} waits {DelaySeconds} s for {Target}: {Scope} is cooling down after a 429.")]
    private static partial void LogCoolingDown(ILogger logger, string eventId, string target, string scope, long delaySeconds);

    [LoggerMessage(3005, LogLevel.Debug, "{EventId} is being delivered to {Target} by another worker; checking again in {DelayMs} ms.")]
    private static partial void LogBusy(ILogger logger, string eventId, string target, long delayMs);
}
