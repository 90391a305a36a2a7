using System.Collections.Concurrent;
using System.Threading.Channels;
using DbtRelay.Webhooks;

namespace DbtRelay.Delivery;

/// <summary>
/// The queues of <c>dbt-relay serve</c> and of tests: channels, with delayed messages held by timers from the
/// injected clock (so tests advance time instead of sleeping). Messages round-trip through their JSON form, exactly
/// as they would through Azure Storage, so serve exercises the same serialization.
/// </summary>
public sealed class InMemoryRelayQueues(TimeProvider time) : IRelayQueues, IDeadLetters
{
    private readonly ConcurrentDictionary<ITimer, (string Queue, string EventId)> _delayed = new();

    public Channel<byte[]> Events { get; } = Channel.CreateUnbounded<byte[]>();
    public Channel<byte[]> Deliveries { get; } = Channel.CreateUnbounded<byte[]>();
    public ConcurrentQueue<DeadLetter> DeadLetters { get; } = new();

    /// <summary>Messages waiting for their delay to pass.</summary>
    public IReadOnlyCollection<(string Queue, string EventId)> Delayed => _delayed.Values.ToList();

    /// <summary>Queues what intake accepted, as the bytes intake already serialized (as the Functions output binding does).</summary>
    public ValueTask EnqueueAcceptedAsync(Accepted accepted, CancellationToken cancellationToken) =>
        Write(Events, accepted.QueueMessage, TimeSpan.Zero, QueueNames.Events, accepted.Envelope.EventId, cancellationToken);

    public ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken) =>
        Write(Events, RelayJson.Serialize(envelope), delay, QueueNames.Events, envelope.EventId, cancellationToken);

    public ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        Write(Deliveries, RelayJson.Serialize(delivery), delay, QueueNames.Deliveries, delivery.Event.EventId, cancellationToken);

    public ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        DeadLetters.Enqueue(RelayJson.DeserializeDeadLetter(RelayJson.Serialize(deadLetter)));
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<DeadLetterSummary>> ListAsync(int max, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<DeadLetterSummary>>(DeadLetters.Take(max).Select(DeadLetterSummary.Of).ToList());

    public async ValueTask<int> ReplayAsync(int max, DeliveryAddress? only, CancellationToken cancellationToken)
    {
        var replayed = 0;
        var kept = new List<DeadLetter>();
        // One pass over what is there now: letters that arrive during the replay wait for the next one.
        for (var remaining = DeadLetters.Count; remaining > 0 && replayed < max && DeadLetters.TryDequeue(out var deadLetter); remaining--)
        {
            if (only is not null && !only.Matches(deadLetter.Delivery))
            {
                kept.Add(deadLetter);
                continue;
            }
            await EnqueueDeliveryAsync(deadLetter.ToReplay(time.GetUtcNow()), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            replayed++;
        }
        foreach (var deadLetter in kept) DeadLetters.Enqueue(deadLetter);
        return replayed;
    }

    private ValueTask Write(Channel<byte[]> channel, byte[] message, TimeSpan delay, string queue, string eventId, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero) return channel.Writer.WriteAsync(message, cancellationToken);
        ITimer? timer = null;
        timer = time.CreateTimer(_ =>
        {
            if (timer is not null && _delayed.TryRemove(timer, out var _)) channel.Writer.TryWrite(message);
            timer?.Dispose();
        }, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _delayed[timer] = (queue, eventId);
        timer.Change(delay, Timeout.InfiniteTimeSpan);
        return ValueTask.CompletedTask;
    }
}
