namespace DbtRelay.Delivery;

/// <summary>A paused target: since when, by whom (<c>operator</c> or <c>breaker</c>), and why.</summary>
public sealed record PauseRecord(string Target, DateTimeOffset Since, string By, string Reason);
