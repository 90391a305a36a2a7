namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// The ledger's state machine over a conditional store. A key is absent (never tried, or released), leased
/// (someone is calling the target until <c>until</c>), or completed. Creating with If-None-Match and replacing with
/// If-Match make every transition atomic across instances; an expired lease (a crashed worker) is taken over.
/// </summary>
public sealed class ConditionalLedger(IConditionalStore store, TimeProvider time) : IDeliveryLedger
{
    public async ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var leased = BinaryData.FromBytes(LedgerEntry.Leased(time.GetUtcNow() + lease).ToJson());
            if (await store.TryCreateAsync(key, leased, cancellationToken).ConfigureAwait(false) is { } created)
            {
                return new LedgerClaim(key, ClaimStatus.Claimed, created);
            }
            if (await store.ReadAsync(key, cancellationToken).ConfigureAwait(false) is not var (content, version))
            {
                continue; // released between our create and read: try to create again
            }
            var entry = LedgerEntry.Parse(content.ToMemory().Span);
            if (entry.IsCompleted) return new LedgerClaim(key, ClaimStatus.Completed, null, Detail: entry.Detail);
            if (entry.Until > time.GetUtcNow()) return new LedgerClaim(key, ClaimStatus.Busy, null, entry.Until);
            if (await store.TryReplaceAsync(key, leased, version, cancellationToken).ConfigureAwait(false) is { } taken)
            {
                return new LedgerClaim(key, ClaimStatus.Claimed, taken, TakenOver: true);
            }
        }
        // Heavy contention on one key: let the caller come back shortly rather than spin.
        return new LedgerClaim(key, ClaimStatus.Busy, null, time.GetUtcNow() + TimeSpan.FromSeconds(5));
    }

    public ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken) =>
        // Unconditional: the call did happen, so completion must win even if our lease ran out meanwhile.
        store.WriteAsync(claim.Key, BinaryData.FromBytes(LedgerEntry.Completed(detail).ToJson()), cancellationToken);

    public ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken) =>
        claim.Token is null ? ValueTask.CompletedTask : store.TryDeleteAsync(claim.Key, claim.Token, cancellationToken);
}
