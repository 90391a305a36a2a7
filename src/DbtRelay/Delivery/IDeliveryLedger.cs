namespace DbtRelay.Delivery;

public enum ClaimStatus
{
    /// <summary>This caller holds the key until the lease ends: it may call the target.</summary>
    Claimed,
    /// <summary>Done before (by this or another instance): do nothing.</summary>
    Completed,
    /// <summary>Another caller holds a live lease: try again after it ends.</summary>
    Busy,
}

/// <summary>The answer to a claim. <see cref="Token"/> proves ownership when completing or releasing.</summary>
public sealed record LedgerClaim(string Key, ClaimStatus Status, string? Token, DateTimeOffset? BusyUntil = null, string? Detail = null);

/// <summary>
/// Exactly-once bookkeeping for (event, target) deliveries and for event fan-outs, atomic across instances.
/// Implemented once, by <see cref="ConditionalLedger"/>, over a store with conditional writes: Azure blobs in the
/// host storage account (Functions) or memory (serve, tests).
/// </summary>
public interface IDeliveryLedger
{
    /// <summary>Claims <paramref name="key"/> for <paramref name="lease"/> unless it is completed or leased by another.</summary>
    ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>Marks the claimed key done for good.</summary>
    ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken);

    /// <summary>Gives a claim up without completing it (the attempt failed; a retry may claim it again).</summary>
    ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken);
}
