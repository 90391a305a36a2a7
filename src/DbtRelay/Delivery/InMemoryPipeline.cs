using DbtRelay.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Delivery;

/// <summary>
/// Runs route → deliver over <see cref="InMemoryRelayQueues"/> inside one process (<c>dbt-relay serve</c>). On
/// shutdown it drains: everything already queued is routed and delivered before the process exits.
/// </summary>
public sealed partial class InMemoryPipeline(
    InMemoryRelayQueues queues,
    EventRouter router,
    DeliveryExecutor executor,
    ILogger<InMemoryPipeline> logger) : BackgroundService
{
    /// <summary>Deliveries in flight at once (each waits on a downstream API, not on the CPU).</summary>
    public const int DeliveryConcurrency = 16;

    private int _busy;

    /// <summary>True when nothing is queued for now and nothing is being processed.</summary>
    public bool IsIdle => Volatile.Read(ref _busy) == 0 && queues.Events.Reader.Count == 0 && queues.Deliveries.Reader.Count == 0;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Work continues past stoppingToken so the drain in StopAsync can finish; the readers end when completed.
        var loops = new List<Task> { Task.Run(() => ConsumeAsync(queues.Events.Reader, RouteAsync), CancellationToken.None) };
        for (var i = 0; i < DeliveryConcurrency; i++)
        {
            loops.Add(Task.Run(() => ConsumeAsync(queues.Deliveries.Reader, DeliverAsync), CancellationToken.None));
        }
        return Task.WhenAll(loops);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        while (!IsIdle && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(20, CancellationToken.None).ConfigureAwait(false);
        }
        var delayed = queues.Delayed;
        if (delayed.Count > 0) LogDelayedLeft(logger, delayed.Count, string.Join(", ", delayed.Select(d => $"{d.EventId} ({d.Queue})").Distinct()));
        if (!queues.DeadLetters.IsEmpty) LogDeadLettersLeft(logger, queues.DeadLetters.Count);
        queues.Events.Writer.TryComplete();
        queues.Deliveries.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task ConsumeAsync(System.Threading.Channels.ChannelReader<byte[]> reader, Func<byte[], Task> handle)
    {
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _busy);
            try
            {
                if (reader.TryRead(out var message)) await handle(message).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                LogUnexpected(logger, ex);
            }
            finally
            {
                Interlocked.Decrement(ref _busy);
            }
        }
    }

    private Task RouteAsync(byte[] message) => router.RouteAsync(RelayJson.DeserializeEnvelope(message), CancellationToken.None);

    private Task DeliverAsync(byte[] message) => executor.ExecuteAsync(RelayJson.DeserializeDelivery(message), CancellationToken.None);

    [LoggerMessage(5001, LogLevel.Error, "The in-memory pipeline hit an unexpected error.")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(5002, LogLevel.Warning, "Stopping with {Count} message(s) still waiting for a retry delay; they are lost with this process: {Events}.")]
    private static partial void LogDelayedLeft(ILogger logger, int count, string events);

    [LoggerMessage(5003, LogLevel.Warning, "Stopping with {Count} dead-lettered delivery(ies) that were not replayed.")]
    private static partial void LogDeadLettersLeft(ILogger logger, int count);
}
