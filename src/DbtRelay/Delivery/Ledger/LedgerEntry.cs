namespace DbtRelay.Delivery.Ledger;

/// <summary>A ledger item as stored (readable in Storage Explorer when someone asks "did this sync fire?").</summary>
public sealed record LedgerEntry(string State, DateTimeOffset? Until, string? Detail)
{
    public const string LeasedState = "leased";
    public const string CompletedState = "completed";
}
