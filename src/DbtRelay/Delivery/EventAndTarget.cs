namespace DbtRelay.Delivery;

/// <summary>One event and one of its targets: what an operator names to act on a single delivery (not a URL).</summary>
public sealed record EventAndTarget(string EventId, string Target)
{
    public bool Matches(DeliveryMessage delivery) =>
        string.Equals(delivery.Event.EventId, EventId, StringComparison.Ordinal) &&
        string.Equals(delivery.Target, Target, StringComparison.Ordinal);
}
