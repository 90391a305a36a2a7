using System.Collections.Concurrent;

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
/// Azure: blobs in the host storage account created with If-None-Match: * and updated with If-Match. Serve and
/// tests: <see cref="InMemoryDeliveryLedger"/>.
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

/// <summary>The ledger for a single process; leases use the injected clock.</summary>
public sealed class InMemoryDeliveryLedger(TimeProvider time) : IDeliveryLedger
{
    private sealed record Entry(string? Token, DateTimeOffset LeaseEnds, string? Detail)
    {
        public bool Completed => Token is null;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            var mine = new Entry(Guid.NewGuid().ToString("N"), now + lease, null);
            if (_entries.TryAdd(key, mine)) return Claimed(key, mine);
            if (!_entries.TryGetValue(key, out var existing)) continue;
            if (existing.Completed) return ValueTask.FromResult(new LedgerClaim(key, ClaimStatus.Completed, null, Detail: existing.Detail));
            if (existing.LeaseEnds > now) return ValueTask.FromResult(new LedgerClaim(key, ClaimStatus.Busy, null, existing.LeaseEnds));
            // The holder's lease ran out (it crashed or hung): take over, atomically against other takers.
            if (_entries.TryUpdate(key, mine, existing)) return Claimed(key, mine);
        }
    }

    private static ValueTask<LedgerClaim> Claimed(string key, Entry entry) => ValueTask.FromResult(new LedgerClaim(key, ClaimStatus.Claimed, entry.Token));

    public ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken)
    {
        // Completing wins even after the lease ran out: the call did happen, and a second one must not.
        _entries[claim.Key] = new Entry(null, DateTimeOffset.MaxValue, detail);
        return ValueTask.CompletedTask;
    }

    public ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken)
    {
        if (_entries.TryGetValue(claim.Key, out var existing) && existing.Token == claim.Token)
        {
            _entries.TryRemove(new KeyValuePair<string, Entry>(claim.Key, existing));
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>The detail recorded for a completed key (tests and diagnostics).</summary>
    public string? CompletedDetail(string key) => _entries.TryGetValue(key, out var e) && e.Completed ? e.Detail : null;
}
