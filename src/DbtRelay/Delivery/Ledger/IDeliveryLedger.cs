namespace DbtRelay.Delivery.Ledger;

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
