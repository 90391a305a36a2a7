using System.Text.Json;

namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// The ledger's state machine over a conditional store. A key is absent (never tried, or released), leased
/// (someone is calling the target until <c>until</c>), or completed. Creating with If-None-Match and replacing with
/// If-Match make every transition atomic across instances; an expired lease (a crashed worker) is taken over.
/// </summary>
public sealed class ConditionalLedger(IConditionalStore store, TimeProvider time) : IDeliveryLedger
{
    private sealed record State(bool Completed, DateTimeOffset Until, string? Detail);

    public async ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var leased = Serialize(new State(false, time.GetUtcNow() + lease, null));
            if (await store.TryCreateAsync(key, leased, cancellationToken).ConfigureAwait(false) is { } created)
            {
                return new LedgerClaim(key, ClaimStatus.Claimed, created);
            }
            if (await store.ReadAsync(key, cancellationToken).ConfigureAwait(false) is not var (content, version))
            {
                continue; // released between our create and read: try to create again
            }
            var state = Deserialize(content);
            if (state.Completed) return new LedgerClaim(key, ClaimStatus.Completed, null, Detail: state.Detail);
            if (state.Until > time.GetUtcNow()) return new LedgerClaim(key, ClaimStatus.Busy, null, state.Until);
            if (await store.TryReplaceAsync(key, leased, version, cancellationToken).ConfigureAwait(false) is { } taken)
            {
                return new LedgerClaim(key, ClaimStatus.Claimed, taken);
            }
        }
        // Heavy contention on one key: let the caller come back shortly rather than spin.
        return new LedgerClaim(key, ClaimStatus.Busy, null, time.GetUtcNow() + TimeSpan.FromSeconds(5));
    }

    public ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken) =>
        // Unconditional: the call did happen, so completion must win even if our lease ran out meanwhile.
        store.WriteAsync(claim.Key, Serialize(new State(true, DateTimeOffset.MaxValue, detail)), cancellationToken);

    public ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken) =>
        claim.Token is null ? ValueTask.CompletedTask : store.TryDeleteAsync(claim.Key, claim.Token, cancellationToken);

    private static BinaryData Serialize(State state) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(
        new LedgerEntry(state.Completed ? LedgerEntry.CompletedState : LedgerEntry.LeasedState, state.Completed ? null : state.Until, state.Detail), LedgerJsonContext.Default.LedgerEntry));

    private static State Deserialize(BinaryData content)
    {
        var entry = JsonSerializer.Deserialize(content.ToMemory().Span, LedgerJsonContext.Default.LedgerEntry)
            ?? throw new JsonException("A ledger entry was JSON null.");
        return new State(entry.State == LedgerEntry.CompletedState, entry.Until ?? DateTimeOffset.MinValue, entry.Detail);
    }
}
