namespace DbtRelay.Delivery.Ledger;

/// <summary>The answer to a claim. <see cref="Token"/> proves ownership when completing or releasing.</summary>
public sealed record LedgerClaim(string Key, ClaimStatus Status, string? Token, DateTimeOffset? BusyUntil = null, string? Detail = null);
