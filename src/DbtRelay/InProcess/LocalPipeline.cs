using System.Collections.Concurrent;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.InProcess;

/// <summary>
/// Runs route → deliver inside one process (<c>dbt-relay serve</c>) over any <see cref="IQueueConsumer"/>. On
/// shutdown it drains: everything due is routed and delivered before the process exits. A durable consumer keeps
/// what the drain did not reach (delayed retries, or all of it after a crash) for the next start.
/// </summary>
public sealed partial class LocalPipeline(
    IQueueConsumer queues,
    IRelayQueues relayQueues,
    EventRouter router,
    DeliveryExecutor executor,
    IOptions<PipelineOptions> options,
    ILogger<LocalPipeline> logger) : BackgroundService
{
    private readonly PipelineOptions _options = options.Value;

    /// <summary>How long a message whose handling threw waits before it is tried again.</summary>
    private static readonly TimeSpan AfterUnexpectedError = TimeSpan.FromSeconds(30);

    /// <summary>Handlings of one message that may fail before it is set aside (host.json's maxDequeueCount).</summary>
    public const int MaxHandlingFailures = 5;

    private readonly CancellationTokenSource _stop = new();

    /// <summary>How long a delivery over its target's limit waits before it is looked at again.</summary>
    private static readonly TimeSpan OverTargetLimit = TimeSpan.FromMilliseconds(200);

    private readonly ConcurrentDictionary<string, int> _inFlight = new(StringComparer.Ordinal);
    private long _lastDeferral = long.MinValue / 2;

    /// <summary>
    /// How long after the last deferral the drain still waits for deferred deliveries to come back. Their 200 ms
    /// timers run late on a busy machine; a window of twice the delay let a drain end with deferred ones still out.
    /// </summary>
    private static readonly TimeSpan DeferralSettles = TimeSpan.FromSeconds(2);

    private bool RecentlyDeferred => Environment.TickCount64 - Interlocked.Read(ref _lastDeferral) < DeferralSettles.TotalMilliseconds;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loops run past stoppingToken so the drain in StopAsync can finish; _stop ends them after it.
        var loops = new List<Task>();
        for (var i = 0; i < _options.RouteConcurrency; i++)
        {
            loops.Add(Task.Run(() => ConsumeAsync(QueueNames.Events, RouteAsync), CancellationToken.None));
        }
        for (var i = 0; i < _options.DeliveryConcurrency; i++)
        {
            loops.Add(Task.Run(() => ConsumeAsync(QueueNames.Deliveries, DeliverAsync), CancellationToken.None));
        }
        return Task.WhenAll(loops);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            // A delivery just put back for its target's limit is due again within moments: the drain waits for it too.
            while (!cancellationToken.IsCancellationRequested
                   && (await queues.HasDueOrLeasedAsync(cancellationToken).ConfigureAwait(false) || RecentlyDeferred))
            {
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
            var delayed = await queues.CountDelayedAsync(cancellationToken).ConfigureAwait(false);
            if (delayed > 0 && queues.IsDurable) LogDelayedKept(logger, delayed);
            else if (delayed > 0) LogDelayedLost(logger, delayed);
        }
        catch (OperationCanceledException)
        {
            if (queues.IsDurable) LogDrainCutShort(logger);
        }
        catch (Exception ex)
        {
            // The store itself failed: stop anyway; what it holds resumes when it works again.
            LogDrainFailed(logger, ex);
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _stop.Dispose();
        base.Dispose();
    }

    private async Task ConsumeAsync(string queue, Func<ReadOnlyMemory<byte>, Task> handle)
    {
        while (!_stop.IsCancellationRequested)
        {
            LeasedMessage? message;
            try
            {
                message = await queues.ReceiveAsync(queue, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The store itself failed (disk, network): wait, then try again; nothing was taken.
                LogReceiveFailed(logger, queue, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            if (message is null) return;
            try
            {
                await handle(message.Body).ConfigureAwait(false);
                await queues.CompleteAsync(message, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                await SetBackAsync(message, ex).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Tried again in 30 s; after the fifth failure a readable delivery becomes a dead letter, anything else is set
    /// aside in the poison queue, each with an error line.
    /// </summary>
    private async Task SetBackAsync(LeasedMessage message, Exception failure)
    {
        var failures = message.Failures + 1;
        try
        {
            if (failures >= MaxHandlingFailures)
            {
                if (await DeadLetteredAsync(message, failures, failure).ConfigureAwait(false)) return;
                LogPoisoned(logger, message.Queue, failures, failure);
                await queues.PoisonAsync(message, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            LogUnexpected(logger, message.Queue, failures, MaxHandlingFailures, failure);
            await queues.ReleaseAsync(message, AfterUnexpectedError, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // Its lease runs out instead, and it is received again.
            LogReceiveFailed(logger, message.Queue, ex);
        }
    }

    /// <summary>A delivery that can still be read becomes a dead letter (listed, replayable); false when it cannot.</summary>
    private async Task<bool> DeadLetteredAsync(LeasedMessage message, int failures, Exception failure)
    {
        if (message.Queue != QueueNames.Deliveries) return false;
        try
        {
            var delivery = DeliveryJson.DeserializeDelivery(message.Body);
            await executor.GiveUpAsync(delivery, $"handling it failed {failures} times ({failure.GetType().Name}); see the Error lines logged for {delivery.Event.EventId}",
                CancellationToken.None).ConfigureAwait(false);
            await queues.CompleteAsync(message, CancellationToken.None).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return false; // unreadable, or the store is failing too: the poison queue keeps it
        }
    }

    private Task RouteAsync(ReadOnlyMemory<byte> message) => router.RouteAsync(EventJson.DeserializeEnvelope(message), CancellationToken.None);

    private async Task DeliverAsync(ReadOnlyMemory<byte> message)
    {
        var delivery = DeliveryJson.DeserializeDelivery(message);
        if (_inFlight.AddOrUpdate(delivery.Target, 1, static (_, n) => n + 1) > _options.EffectiveMaxPerTarget)
        {
            _inFlight.AddOrUpdate(delivery.Target, 0, static (_, n) => n - 1);
            // Queued again as a new message (the original completes): a release would count towards a store's
            // poison limit, and this is not a failure.
            await relayQueues.EnqueueDeliveryAsync(delivery, OverTargetLimit, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Exchange(ref _lastDeferral, Environment.TickCount64);
            return;
        }
        try
        {
            await executor.ExecuteAsync(delivery, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            _inFlight.AddOrUpdate(delivery.Target, 0, static (_, n) => n - 1);
        }
    }

    [LoggerMessage(5001, LogLevel.Error, "Handling a message from {Queue} failed unexpectedly ({Failures} of {MaxFailures}); it comes back in 30 s.")]
    private static partial void LogUnexpected(ILogger logger, string queue, int failures, int maxFailures, Exception exception);

    [LoggerMessage(5007, LogLevel.Error, "Handling a message from {Queue} failed {Failures} times; it is set aside in {Queue}-poison and not tried again.")]
    private static partial void LogPoisoned(ILogger logger, string queue, int failures, Exception exception);

    [LoggerMessage(5002, LogLevel.Warning, "Stopping with {Count} message(s) still waiting for a retry delay; they are lost with this process (in-memory queues).")]
    private static partial void LogDelayedLost(ILogger logger, int count);

    [LoggerMessage(5003, LogLevel.Information, "Stopping with {Count} message(s) waiting for a retry delay; they are stored and resume at their due time on the next start.")]
    private static partial void LogDelayedKept(ILogger logger, int count);

    [LoggerMessage(5004, LogLevel.Warning, "The drain was cut short; what was not delivered is stored and resumes on the next start.")]
    private static partial void LogDrainCutShort(ILogger logger);

    [LoggerMessage(5006, LogLevel.Error, "The drain stopped: the queue store failed.")]
    private static partial void LogDrainFailed(ILogger logger, Exception exception);

    [LoggerMessage(5005, LogLevel.Error, "Could not read queue {Queue}; trying again.")]
    private static partial void LogReceiveFailed(ILogger logger, string queue, Exception exception);
}
