namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// The answer to a claim. <see cref="Token"/> proves ownership when completing or releasing. <see cref="TakenOver"/>:
/// the key was claimed from a lease that ran out, so its earlier holder (a crashed or killed worker) may have called
/// the target before it stopped.
/// </summary>
public sealed record LedgerClaim(string Key, ClaimStatus Status, string? Token, DateTimeOffset? BusyUntil = null, string? Detail = null, bool TakenOver = false);
