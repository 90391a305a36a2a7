namespace DbtRelay.History;

/// <summary>One line of the event list.</summary>
public sealed record EventSummary(
    string EventId,
    DateTimeOffset ReceivedAt,
    string EventType,
    string? JobId,
    string? RunId,
    string? RunStatus,
    string Status,
    IReadOnlyDictionary<string, string> Targets)
{
    public static EventSummary Of(EventTimeline timeline) => new(
        timeline.EventId, timeline.ReceivedAt, timeline.EventType, timeline.JobId, timeline.RunId, timeline.RunStatus,
        timeline.Status, timeline.Targets.ToDictionary(t => t.Target, t => t.State, StringComparer.Ordinal));
}
