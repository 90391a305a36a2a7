using Azure.Storage.Queues;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.Webhooks;

namespace DbtRelay.AzureStorage;

/// <summary>The library's queues as Azure Storage queues: a delay is the message's initial visibility timeout.</summary>
public sealed class StorageRelayQueues(StorageClients storage) : IRelayQueues, IAcceptedEventStore
{
    /// <summary>Messages never expire: a delivery waiting for its retry must not vanish after the default 7 days.</summary>
    public static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    /// <summary>The longest initial invisibility Azure Storage accepts for a message.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromDays(7);

    /// <summary>Intake's writes and the router's re-queues go the same way: the one writer of <c>dbt-events</c>.</summary>
    public ValueTask StoreAsync(Accepted accepted, CancellationToken cancellationToken) =>
        SendAsync(QueueNames.Events, accepted.QueueMessage, TimeSpan.Zero, cancellationToken);

    public ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken) =>
        SendAsync(QueueNames.Events, EventJson.Serialize(envelope), delay, cancellationToken);

    public ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        SendAsync(QueueNames.Deliveries, DeliveryJson.Serialize(delivery), delay, cancellationToken);

    /// <summary>Kept <see cref="DeadLetter.KeptFor"/>, then the message expires: a dead letter is bounded like everything else.</summary>
    public ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken) =>
        SendAsync(QueueNames.DeadLetters, DeliveryJson.Serialize(deadLetter), TimeSpan.Zero, cancellationToken, DeadLetter.KeptFor);

    private ValueTask SendAsync(string queue, byte[] message, TimeSpan delay, CancellationToken cancellationToken, TimeSpan? timeToLive = null) =>
        SendAsync(storage.Queue(queue), System.Text.Encoding.UTF8.GetString(message), delay, cancellationToken, timeToLive);

    /// <summary>How every writer of the relay's queues sends: unencoded text, never expiring unless told, optionally delayed.</summary>
    internal static async ValueTask SendAsync(QueueClient queue, string message, TimeSpan delay, CancellationToken cancellationToken, TimeSpan? timeToLive = null)
    {
        TimeSpan? visibility = delay > TimeSpan.Zero ? (delay < MaxDelay ? delay : MaxDelay) : null;
        await queue.SendMessageAsync(message, visibility, timeToLive ?? NeverExpire, cancellationToken).ConfigureAwait(false);
    }
}
