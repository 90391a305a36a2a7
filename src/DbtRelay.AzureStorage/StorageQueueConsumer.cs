using DbtRelay.InProcess;

namespace DbtRelay.AzureStorage;

/// <summary>
/// Receives the relay's Azure Storage queues for <c>dbt-relay serve --storage</c>, the way the Functions host's queue
/// trigger does: a received message is invisible for a lease, deleted when handled, and a message received more
/// than <see cref="MaxDequeueCount"/> times moves to <c>&lt;queue&gt;-poison</c>. Several serve instances can share
/// the queues; the ledger keeps one call per event and target.
/// </summary>
public sealed class StorageQueueConsumer(StorageClients storage, TimeProvider time) : IQueueConsumer
{
    /// <summary>As host.json's maxDequeueCount.</summary>
    public const int MaxDequeueCount = 5;

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(2);

    private int _leased;

    public bool IsDurable => true;

    public async ValueTask<LeasedMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken)
    {
        var client = storage.Queue(queue);
        var poll = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            // Counted before it can leave the queue, so the drain never sees it in neither place.
            Interlocked.Increment(ref _leased);
            try
            {
                var message = (await client.ReceiveMessageAsync(Lease, cancellationToken).ConfigureAwait(false)).Value;
                if (message is not null && message.DequeueCount <= MaxDequeueCount)
                {
                    // A released message comes back with one more dequeue: every receive after the first followed a failure or a crash.
                    return new LeasedMessage(queue, message.Body.ToMemory(), $"{message.MessageId}\n{message.PopReceipt}") { Failures = (int)message.DequeueCount - 1 };
                }
                if (message is not null) await MoveToPoisonAsync(queue, message.MessageText, message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                Interlocked.Decrement(ref _leased);
                throw;
            }
            Interlocked.Decrement(ref _leased);
            // Polls back off to every 2 s when idle, like the Functions host's maxPollingInterval.
            await Task.Delay(poll, time, cancellationToken).ConfigureAwait(false);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, MaxPoll.Ticks));
        }
    }

    private async Task MoveToPoisonAsync(string queue, string text, string id, string receipt, CancellationToken cancellationToken)
    {
        var poison = storage.Queue($"{queue}-poison");
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        await StorageRelayQueues.SendAsync(poison, text, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        await storage.Queue(queue).DeleteMessageAsync(id, receipt, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask PoisonAsync(LeasedMessage message, CancellationToken cancellationToken)
    {
        var (id, receipt) = Split(message);
        await MoveToPoisonAsync(message.Queue, System.Text.Encoding.UTF8.GetString(message.Body.Span), id, receipt, cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _leased);
    }

    public async ValueTask CompleteAsync(LeasedMessage message, CancellationToken cancellationToken)
    {
        var (id, receipt) = Split(message);
        await storage.Queue(message.Queue).DeleteMessageAsync(id, receipt, cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _leased);
    }

    public async ValueTask ReleaseAsync(LeasedMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var (id, receipt) = Split(message);
        await storage.Queue(message.Queue).UpdateMessageAsync(id, receipt, visibilityTimeout: delay, cancellationToken: cancellationToken).ConfigureAwait(false);
        Interlocked.Decrement(ref _leased);
    }

    /// <summary>Only this instance's own leases: queued messages stay in storage for any instance.</summary>
    public ValueTask<bool> HasDueOrLeasedAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Volatile.Read(ref _leased) > 0);

    /// <summary>Delayed messages are invisible in a storage queue and stay there; nothing to report.</summary>
    public ValueTask<int> CountDelayedAsync(CancellationToken cancellationToken) => ValueTask.FromResult(0);

    private static (string Id, string Receipt) Split(LeasedMessage message)
    {
        var parts = message.Receipt.Split('\n', 2);
        return (parts[0], parts[1]);
    }
}
