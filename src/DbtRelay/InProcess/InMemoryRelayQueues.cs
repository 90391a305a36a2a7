using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.Webhooks;

namespace DbtRelay.InProcess;

/// <summary>
/// Queues in this process only (tests, and <c>serve --in-memory</c>): channels, with delayed messages held by timers
/// from the injected clock (so tests advance time instead of sleeping). Messages round-trip through their JSON form,
/// exactly as they would through a store, so the same serialization is exercised. Nothing survives the process.
/// </summary>
public sealed class InMemoryRelayQueues(TimeProvider time) : IRelayQueues, IDeadLetters, IQueueConsumer, IAcceptedEventStore
{
    private readonly ConcurrentDictionary<ITimer, (string Queue, string EventId)> _delayed = new();
    private int _leased;

    public Channel<byte[]> Events { get; } = Channel.CreateUnbounded<byte[]>();
    public Channel<byte[]> Deliveries { get; } = Channel.CreateUnbounded<byte[]>();
    public ConcurrentQueue<DeadLetter> DeadLetters { get; } = new();

    /// <summary>Messages set aside after their handling kept failing, by queue (gone with the process, like the rest).</summary>
    public ConcurrentQueue<(string Queue, byte[] Body)> Poisoned { get; } = new();

    // Failed handlings per message, keyed by the message's own array: a release puts that same array back.
    private readonly ConcurrentDictionary<byte[], int> _failures = new(ReferenceEqualityComparer.Instance);

    /// <summary>Messages waiting for their delay to pass.</summary>
    public IReadOnlyCollection<(string Queue, string EventId)> Delayed => _delayed.Values.ToList();

    /// <summary>Queues what intake accepted, as the bytes intake already serialized (as every store does).</summary>
    public ValueTask StoreAsync(Accepted accepted, CancellationToken cancellationToken) =>
        Write(Events, accepted.QueueMessage, TimeSpan.Zero, QueueNames.Events, accepted.Envelope.EventId, cancellationToken);

    public ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken) =>
        Write(Events, EventJson.Serialize(envelope), delay, QueueNames.Events, envelope.EventId, cancellationToken);

    public ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        Write(Deliveries, DeliveryJson.Serialize(delivery), delay, QueueNames.Deliveries, delivery.Event.EventId, cancellationToken);

    public ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken)
    {
        DeadLetters.Enqueue(DeliveryJson.DeserializeDeadLetter(DeliveryJson.Serialize(deadLetter)));
        return ValueTask.CompletedTask;
    }

    public bool IsDurable => false;

    public async ValueTask<LeasedMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken)
    {
        var reader = ChannelOf(queue).Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            // Counted before it leaves the channel, so the drain never sees it in neither place.
            Interlocked.Increment(ref _leased);
            if (reader.TryRead(out var message)) return new LeasedMessage(queue, message, "") { Failures = _failures.GetValueOrDefault(message) };
            Interlocked.Decrement(ref _leased);
        }
        return null;
    }

    public ValueTask CompleteAsync(LeasedMessage message, CancellationToken cancellationToken)
    {
        if (MemoryMarshal.TryGetArray(message.Body, out var body)) _failures.TryRemove(body.Array!, out _);
        Interlocked.Decrement(ref _leased);
        return ValueTask.CompletedTask;
    }

    public async ValueTask ReleaseAsync(LeasedMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var body = Own(message);
        _failures[body] = message.Failures + 1;
        await Write(ChannelOf(message.Queue), body, delay, message.Queue, "(released)", cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _leased);
    }

    public ValueTask PoisonAsync(LeasedMessage message, CancellationToken cancellationToken)
    {
        var body = Own(message);
        _failures.TryRemove(body, out _);
        Poisoned.Enqueue((message.Queue + "-poison", body));
        Interlocked.Decrement(ref _leased);
        return ValueTask.CompletedTask;
    }

    /// <summary>The message's own array (what the channel handed out), so its failure count follows it.</summary>
    private static byte[] Own(LeasedMessage message) =>
        MemoryMarshal.TryGetArray(message.Body, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : message.Body.ToArray();

    public ValueTask<bool> HasDueOrLeasedAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(Volatile.Read(ref _leased) > 0 || Events.Reader.Count > 0 || Deliveries.Reader.Count > 0);

    public ValueTask<int> CountDelayedAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_delayed.Count);

    private Channel<byte[]> ChannelOf(string queue) => queue switch
    {
        QueueNames.Events => Events,
        QueueNames.Deliveries => Deliveries,
        _ => throw new ArgumentOutOfRangeException(nameof(queue), queue, "not a queue the pipeline consumes"),
    };

    public ValueTask<IReadOnlyList<DeadLetterSummary>> ListAsync(int max, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<DeadLetterSummary>>(DeadLetters.Take(max).Select(DeadLetterSummary.Of).ToList());

    public async ValueTask<int> ReplayAsync(int max, EventAndTarget? only, CancellationToken cancellationToken)
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
