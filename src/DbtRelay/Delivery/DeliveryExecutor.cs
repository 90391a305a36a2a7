using DbtRelay.Config;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Secrets;
using DbtRelay.Targets;
using DbtRelay.Webhooks;
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
    ISecretStore secrets,
    IHttpClientFactory httpClients,
    IOptions<RetryOptions> retryOptions,
    TimeProvider time,
    ILogger<DeliveryExecutor> logger)
{
    public const string HttpClientName = "DbtRelay.Targets";
    private readonly RetryOptions _retry = retryOptions.Value;

    public async Task<DeliveryResult> ExecuteAsync(DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        var e = delivery.Event;
        using var scope = logger.BeginScope(new EventLogScope(e, delivery.Target, delivery.Attempt));

        if (!config.Targets.TryGetValue(delivery.Target, out var target))
        {
            return await DeadLetterAsync(delivery, $"target '{delivery.Target}' is not defined in relay.json (was it removed after routing?)", cancellationToken).ConfigureAwait(false);
        }

        var claim = await ledger.TryClaimAsync(delivery.LedgerKey, target.Timeout * 2 + _retry.LeaseMargin, cancellationToken).ConfigureAwait(false);
        switch (claim.Status)
        {
            case ClaimStatus.Completed:
                LogDuplicate(logger, e.EventId, delivery.Target, claim.Detail);
                return DeliveryResult.AlreadyDelivered;
            case ClaimStatus.Busy:
                // Another instance is calling this target for this event right now: look again when its lease ends.
                var wait = claim.BusyUntil is { } until ? until - time.GetUtcNow() + TimeSpan.FromSeconds(1) : _retry.InitialDelay;
                await queues.EnqueueDeliveryAsync(delivery, wait, cancellationToken).ConfigureAwait(false);
                LogBusy(logger, e.EventId, delivery.Target, (long)wait.TotalMilliseconds);
                return DeliveryResult.RetryScheduled;
        }

        var started = time.GetTimestamp();
        var outcome = await CallAsync(target, delivery, cancellationToken).ConfigureAwait(false);
        var elapsed = time.GetElapsedTime(started);

        if (outcome is Delivered delivered)
        {
            await ledger.CompleteAsync(claim, delivered.Detail, cancellationToken).ConfigureAwait(false);
            LogDelivered(logger, e.EventId, e.RunId, e.JobId, target.Name, delivery.Attempt, delivered.Detail, (long)elapsed.TotalMilliseconds);
            return DeliveryResult.Delivered;
        }

        await ledger.ReleaseAsync(claim, CancellationToken.None).ConfigureAwait(false);
        if (outcome is RetryLater retry && delivery.Attempt < _retry.MaxAttempts)
        {
            var delay = _retry.DelayAfter(delivery.Attempt, retry.After, Random.Shared);
            var next = delivery with { Attempt = delivery.Attempt + 1, LastReason = DeadLetter.Capped(retry.Detail) };
            await queues.EnqueueDeliveryAsync(next, delay, cancellationToken).ConfigureAwait(false);
            LogRetry(logger, e.EventId, e.RunId, e.JobId, target.Name, delivery.Attempt, retry.Detail, (long)elapsed.TotalMilliseconds, (long)delay.TotalMilliseconds);
            return DeliveryResult.RetryScheduled;
        }

        var reason = outcome is RetryLater
            ? $"gave up after {delivery.Attempt} attempts; last: {outcome.Detail}"
            : outcome.Detail;
        return await DeadLetterAsync(delivery, reason, cancellationToken).ConfigureAwait(false);
    }

    private async Task<TargetOutcome> CallAsync(IDeliveryTarget target, DeliveryMessage delivery, CancellationToken cancellationToken)
    {
        Dictionary<string, string> resolved;
        try
        {
            resolved = await ResolveSecretsAsync(target, refresh: false, cancellationToken).ConfigureAwait(false);
        }
        catch (MissingSecretException missing)
        {
            return new Failed(missing.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The vault is down or throttling and nothing is cached yet: transient.
            return new RetryLater($"the secret store could not be read ({ex.GetType().Name})");
        }

        var outcome = await CallOnceAsync(target, delivery, resolved, cancellationToken).ConfigureAwait(false);
        if (outcome is Failed { CredentialsRejected: true } && target.SecretNames.Count > 0)
        {
            // The token may have been rotated since it was cached: re-read it once before calling this permanent.
            var refreshed = await TryResolveAsync(target, cancellationToken).ConfigureAwait(false);
            if (refreshed is not null && !refreshed.SequenceEqual(resolved))
            {
                LogTokenRefreshed(logger, target.Name);
                outcome = await CallOnceAsync(target, delivery, refreshed, cancellationToken).ConfigureAwait(false);
            }
        }
        return outcome;
    }

    private async Task<TargetOutcome> CallOnceAsync(IDeliveryTarget target, DeliveryMessage delivery, Dictionary<string, string> resolved, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.Timeout);
        using var values = new TemplateValues(delivery.Event, config.Vars, resolved);
        var call = new TargetCall(delivery.Event, delivery.Attempt, values, resolved, httpClients.CreateClient(HttpClientName), time, logger);
        try
        {
            return await target.DeliverAsync(call, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HttpOutcomes.FromException(ex, target.Name, timedOut: true);
        }
        catch (HttpRequestException ex)
        {
            return HttpOutcomes.FromException(ex, target.Name, timedOut: false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug in a target must not lose the event: it is retried and, if it persists, dead-lettered.
            LogTargetBug(logger, ex, target.Name);
            return new RetryLater($"unexpected {ex.GetType().Name} in target {target.Name}");
        }
    }

    private async Task<Dictionary<string, string>?> TryResolveAsync(IDeliveryTarget target, CancellationToken cancellationToken)
    {
        try
        {
            return await ResolveSecretsAsync(target, refresh: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return null; // keep the permanent verdict of the call we already made
        }
    }

    private async Task<Dictionary<string, string>> ResolveSecretsAsync(IDeliveryTarget target, bool refresh, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in target.SecretNames)
        {
            var value = refresh
                ? await secrets.RefreshAsync(name, cancellationToken).ConfigureAwait(false)
                : await secrets.GetAsync(name, cancellationToken).ConfigureAwait(false);
            resolved[name] = value ?? throw new MissingSecretException($"secret '{name}' for target {target.Name} is not set ({secrets.Describe(name)})");
        }
        return resolved;
    }

    private async Task<DeliveryResult> DeadLetterAsync(DeliveryMessage delivery, string reason, CancellationToken cancellationToken)
    {
        await queues.DeadLetterAsync(new DeadLetter { Delivery = delivery, Reason = DeadLetter.Capped(reason), FailedAt = time.GetUtcNow() }, cancellationToken).ConfigureAwait(false);
        LogDeadLettered(logger, delivery.Event.EventId, delivery.Event.RunId, delivery.Event.JobId, delivery.Target, delivery.Attempt, reason);
        return DeliveryResult.DeadLettered;
    }

    private sealed class MissingSecretException(string message) : Exception(message);

    [LoggerMessage(3001, LogLevel.Information, "Delivered {EventId} (run {RunId}, job {JobId}) to {Target} on attempt {Attempt}: {Detail} in {DurationMs} ms.")]
    private static partial void LogDelivered(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string detail, long durationMs);

    [LoggerMessage(3002, LogLevel.Warning, "Attempt {Attempt} to deliver {EventId} (run {RunId}, job {JobId}) to {Target} did not land: {Reason} ({DurationMs} ms). Retrying in {DelayMs} ms.")]
    private static partial void LogRetry(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string reason, long durationMs, long delayMs);

    [LoggerMessage(3003, LogLevel.Error, "Dead-lettered {EventId} (run {RunId}, job {JobId}) for {Target} after attempt {Attempt}: {Reason}")]
    private static partial void LogDeadLettered(ILogger logger, string eventId, string? runId, string? jobId, string target, int attempt, string reason);

    [LoggerMessage(3004, LogLevel.Information, "{EventId} was already delivered to {Target} ({Detail}); skipping the duplicate.")]
    private static partial void LogDuplicate(ILogger logger, string eventId, string target, string? detail);

    [LoggerMessage(3005, LogLevel.Information, "{EventId} is being delivered to {Target} by another worker; checking again in {DelayMs} ms.")]
    private static partial void LogBusy(ILogger logger, string eventId, string target, long delayMs);

    [LoggerMessage(3006, LogLevel.Error, "Target {Target} threw; the delivery will be retried.")]
    private static partial void LogTargetBug(ILogger logger, Exception exception, string target);

    [LoggerMessage(3007, LogLevel.Information, "Target {Target} rejected its credentials; re-read them from the secret store and tried once more.")]
    private static partial void LogTokenRefreshed(ILogger logger, string target);
}
