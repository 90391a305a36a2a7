using DbtRelay.Config;
using DbtRelay.Secrets;
using DbtRelay.Targets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Delivery;

/// <summary>
/// One attempt at a target: its secrets, its timeout, and whatever it throws turned into an outcome. A rejected
/// credential is re-read from the secret store and tried once more, since the cached token may have been rotated.
/// </summary>
public sealed partial class TargetCaller(
    RelayConfig config,
    TargetSecrets secrets,
    IHttpClientFactory httpClients,
    Azure.Core.TokenCredential credential,
    RateLimitCooldowns cooldowns,
    IOptions<RetryOptions> retryOptions,
    TimeProvider time,
    ILogger<TargetCaller> logger)
{
    public const string HttpClientName = "DbtRelay.Targets";

    // The ledger lease covers two calls (timeout × 2) plus the margin; each of the two secret reads gets a third of the
    // margin, so a slow vault cannot keep a live worker past its lease while another takes the delivery over.
    private readonly TimeSpan _secretReadBudget = retryOptions.Value.LeaseMargin / 3;

    /// <summary>One attempt; <paramref name="resumed"/> when an earlier handling of it may have reached the target (<see cref="TargetCall.Resumed"/>).</summary>
    public Task<TargetOutcome> CallAsync(IDeliveryTarget target, DeliveryMessage delivery, bool resumed, CancellationToken cancellationToken) =>
        InvokeAsync(target, delivery, resumed, target.DeliverAsync, cancellationToken);

    /// <summary>One status check of the run <paramref name="runId"/>, with the same secrets, timeout and refresh rules as a call.</summary>
    public Task<TargetOutcome> CheckAsync(IFollowedTarget target, DeliveryMessage delivery, string runId, CancellationToken cancellationToken) =>
        InvokeAsync(target, delivery, resumed: false, async (call, token) =>
        {
            var outcome = await target.CheckAsync(call, runId, token).ConfigureAwait(false);
            // A failed check's reason (a status line the vendor chose) ends up in the history and onFailure calls too.
            return outcome is RunReport
                ? outcome
                : outcome with { Detail = StatusAnswer.OneLine(StatusAnswer.Masked(outcome.Detail, [.. call.Secrets.Values.Where(v => v.Length >= 4)]), StatusAnswer.MaxErrorLength) ?? "" };
        }, cancellationToken);

    private async Task<TargetOutcome> InvokeAsync(IDeliveryTarget target, DeliveryMessage delivery, bool resumed,
        Func<TargetCall, CancellationToken, Task<TargetOutcome>> invoke, CancellationToken cancellationToken)
    {
        var outcome = await InvokeWithRefreshAsync(target, delivery, resumed, invoke, cancellationToken).ConfigureAwait(false);
        // An account-wide rate limit holds back every call to that account until it has passed, not only this one's retry.
        if (target is IRateLimitedTarget limited && outcome is RetryLater { HttpStatus: 429, After: { } after })
        {
            var cooldown = after < RateLimitCooldowns.Longest ? after : RateLimitCooldowns.Longest;
            await cooldowns.CoolDownAsync(limited.RateLimitScope, time.GetUtcNow() + cooldown, target.Name, CancellationToken.None).ConfigureAwait(false);
        }
        return outcome;
    }

    private async Task<TargetOutcome> InvokeWithRefreshAsync(IDeliveryTarget target, DeliveryMessage delivery, bool resumed,
        Func<TargetCall, CancellationToken, Task<TargetOutcome>> invoke, CancellationToken cancellationToken)
    {
        var (resolved, failure) = await ResolveAsync(target, refresh: false, cancellationToken).ConfigureAwait(false);
        if (resolved is null) return failure!;

        var outcome = await CallOnceAsync(target, delivery, resolved, resumed, invoke, cancellationToken).ConfigureAwait(false);
        if (outcome is Failed { CredentialsRejected: true } && target.SecretNames.Count > 0)
        {
            // A store that cannot be re-read keeps the verdict of the call already made.
            var blockedUntil = secrets.ReReadBlockedUntil(target);
            var (refreshed, _) = await ResolveAsync(target, refresh: true, cancellationToken).ConfigureAwait(false);
            if (refreshed is not null && !refreshed.SequenceEqual(resolved))
            {
                LogTokenRefreshed(logger, target.Name);
                outcome = await CallOnceAsync(target, delivery, refreshed, resumed, invoke, cancellationToken).ConfigureAwait(false);
            }
            else if (blockedUntil is { } until)
            {
                // The re-read was skipped (another 401 caused one moments ago, perhaps before the vault held the
                // rotated token): the refusal is not yet proof. Try again once the secret can be read afresh.
                return new RetryLater($"{outcome.Detail}; its secrets were re-read less than {(long)CachingSecretStore.MinimumForcedInterval.TotalSeconds} s ago, so trying again after they can be re-read",
                    until - time.GetUtcNow()) { HttpStatus = outcome.HttpStatus };
            }
        }
        return outcome;
    }

    private async Task<(Dictionary<string, string>? Values, TargetOutcome? Failure)> ResolveAsync(IDeliveryTarget target, bool refresh, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_secretReadBudget, time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await secrets.ResolveAsync(target, refresh, budget.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new RetryLater($"the secret store did not answer within {_secretReadBudget.TotalSeconds:F0} s"));
        }
    }

    private async Task<TargetOutcome> CallOnceAsync(IDeliveryTarget target, DeliveryMessage delivery, Dictionary<string, string> resolved, bool resumed,
        Func<TargetCall, CancellationToken, Task<TargetOutcome>> invoke, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.Timeout);
        using var values = new TemplateValues(delivery.Event, config.Vars, resolved, delivery.Notice);
        var call = new TargetCall(delivery.Event, delivery.Attempt, delivery.Redelivery, values, resolved, httpClients.CreateClient(HttpClientName), time, logger, resumed)
        {
            Credential = credential,
        };
        try
        {
            var outcome = await invoke(call, timeout.Token).ConfigureAwait(false);
            // What a status API says is shown, logged, stored and sent to onFailure targets: a secret it echoes back is
            // masked before anything is cut or kept.
            return outcome is RunReport report ? StatusAnswer.Sanitized(report, resolved.Values) : outcome;
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

    [LoggerMessage(3006, LogLevel.Error, "Target {Target} threw; the delivery will be retried.")]
    private static partial void LogTargetBug(ILogger logger, Exception exception, string target);

    [LoggerMessage(3007, LogLevel.Information, "Target {Target} rejected its credentials; re-read them from the secret store and tried once more.")]
    private static partial void LogTokenRefreshed(ILogger logger, string target);
}
