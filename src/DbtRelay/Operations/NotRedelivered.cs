namespace DbtRelay.Operations;

/// <summary>One of the event's targets left alone by a redeliver request, and why.</summary>
public sealed record NotRedelivered(string Target, string Reason);
