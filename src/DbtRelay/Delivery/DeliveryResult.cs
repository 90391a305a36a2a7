namespace DbtRelay.Delivery;

/// <summary>What became of one delivery message.</summary>
public enum DeliveryResult
{
    Delivered,
    AlreadyDelivered,
    RetryScheduled,
    DeadLettered,

    /// <summary>A followed run's status was checked (the next check is queued, or the run's end recorded).</summary>
    Checked,

    /// <summary>The target is paused: the delivery waits, unattempted.</summary>
    Held,

    /// <summary>The event joined the target's coalescing window: one call covers the window when it closes.</summary>
    Coalesced,
}
