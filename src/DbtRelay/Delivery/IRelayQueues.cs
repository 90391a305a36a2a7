using DbtRelay.Events;

namespace DbtRelay.Delivery;

/// <summary>
/// The relay's three queues as the library sees them. Azure Storage queues in Functions (a delay is the message's
/// initial visibility timeout), channels in <c>dbt-relay serve</c>.
/// </summary>
public interface IRelayQueues
{
    ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken);
    ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken);
    ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken);
}
