namespace DbtRelay.Operations;

/// <summary>One target queued again by a redeliver request, with its redelivery number.</summary>
public sealed record Redelivered(string Target, int Redelivery);
