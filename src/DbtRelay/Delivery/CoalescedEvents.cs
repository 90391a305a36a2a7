using DbtRelay.Events;

namespace DbtRelay.Delivery;

/// <summary>
/// The stored state of one coalescing window: the events that joined it, oldest first, and the latest of them, whose
/// values the call is made with. <see cref="Closed"/> is set once, by the closing <see cref="ClosedBy"/> names, when the
/// call is about to be made: nothing joins after.
/// </summary>
public sealed record CoalescedEvents(string Id, DateTimeOffset ClosesAt, IReadOnlyList<string> Events, EventEnvelope Latest)
{
    public bool Closed { get; init; }

    public string? ClosedBy { get; init; }
}
