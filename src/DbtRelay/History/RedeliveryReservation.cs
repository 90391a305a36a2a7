using DbtRelay.Events;

namespace DbtRelay.History;

/// <summary>
/// A redelivery reserved in an event's history: its number, or, when the target is still <see cref="Busy"/> (queued
/// or retrying, perhaps by a redelivery requested a moment earlier), none. <see cref="DeadLetteredAs"/>: the target
/// was dead-lettered, in the attempt of that redelivery number, whose ledger entry the redelivery must claim.
/// </summary>
public sealed record RedeliveryReservation(EventEnvelope Event, int Number, string? Busy, int? DeadLetteredAs = null)
{
    /// <summary>When the dead-lettered attempt was a coalesced call: its window, and the events it covered.</summary>
    public string? CoalescedIn { get; init; }
    public IReadOnlyList<string>? Covers { get; init; }
}
