namespace DbtRelay.Operations;

/// <summary>What <c>POST /api/events/{eventId}/redeliver</c> queued and what it left alone.</summary>
public sealed record RedeliverAnswer(string EventId, IReadOnlyList<Redelivered> Redelivered, IReadOnlyList<NotRedelivered> Skipped);
