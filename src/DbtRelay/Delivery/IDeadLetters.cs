namespace DbtRelay.Delivery;

/// <summary>
/// Deliveries that were given up, as an operator sees them: listed, and moved back to the delivery queue as fresh
/// first attempts (all of them, or one event's delivery to one target). The ledger still guarantees at most one
/// successful call per event and target, so a replay never doubles a sync that did land.
/// </summary>
public interface IDeadLetters
{
    /// <summary>Up to <paramref name="max"/> dead letters, oldest first, without changing them.</summary>
    ValueTask<IReadOnlyList<DeadLetterSummary>> ListAsync(int max, CancellationToken cancellationToken);

    /// <summary>Replays up to <paramref name="max"/> dead letters, only those of <paramref name="only"/> when given.</summary>
    ValueTask<int> ReplayAsync(int max, EventAndTarget? only, CancellationToken cancellationToken);
}
