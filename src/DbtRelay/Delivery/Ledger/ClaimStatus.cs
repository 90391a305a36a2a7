namespace DbtRelay.Delivery.Ledger;

public enum ClaimStatus
{
    /// <summary>This caller holds the key until the lease ends: it may call the target.</summary>
    Claimed,
    /// <summary>Done before (by this or another instance): do nothing.</summary>
    Completed,
    /// <summary>Another caller holds a live lease: try again after it ends.</summary>
    Busy,
}
