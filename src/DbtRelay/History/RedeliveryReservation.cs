using DbtRelay.Webhooks;

namespace DbtRelay.History;

/// <summary>
/// A redelivery reserved in an event's history: its number, or, when the target is still <see cref="Busy"/> (queued
/// or retrying, perhaps by a redelivery requested a moment earlier), none.
/// </summary>
public sealed record RedeliveryReservation(EventEnvelope Event, int Number, string? Busy);
