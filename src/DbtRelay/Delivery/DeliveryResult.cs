namespace DbtRelay.Delivery;

/// <summary>What became of one delivery message.</summary>
public enum DeliveryResult
{
    Delivered,
    AlreadyDelivered,
    RetryScheduled,
    DeadLettered,
}
