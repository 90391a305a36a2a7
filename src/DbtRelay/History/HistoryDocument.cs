using DbtRelay.Webhooks;

namespace DbtRelay.History;

/// <summary>What is stored per event: the timeline, and the event itself so that a redelivery needs nothing else.</summary>
public sealed record HistoryDocument(EventTimeline Timeline, EventEnvelope Event);
