namespace DbtRelay.History;

/// <summary>A page of events, newest first; <see cref="Next"/> continues after the last one (null at the end).</summary>
public sealed record EventPage(IReadOnlyList<EventSummary> Events, string? Next);
