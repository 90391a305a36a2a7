namespace DbtRelay.Delivery;

/// <summary>One event's delivery to one target: what an operator names to act on a single delivery.</summary>
public sealed record DeliveryAddress(string EventId, string Target)
{
    public bool Matches(DeliveryMessage delivery) =>
        string.Equals(delivery.Event.EventId, EventId, StringComparison.Ordinal) &&
        string.Equals(delivery.Target, Target, StringComparison.Ordinal);
}
