namespace DbtRelay.History;

/// <summary>What happened to one accepted event: its facts, why routes did not match, and each target's attempts.</summary>
public sealed record EventTimeline
{
    public required string EventId { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public string? Webhook { get; init; }
    public required string EventType { get; init; }
    public string? AccountId { get; init; }
    public string? ProjectId { get; init; }
    public string? EnvironmentId { get; init; }
    public string? JobId { get; init; }
    public string? RunId { get; init; }
    public string? RunStatus { get; init; }
    public required string Status { get; init; }
    public DateTimeOffset? RoutedAt { get; init; }

    /// <summary>Each route that did not match, with the first condition that failed.</summary>
    public IReadOnlyList<string> NotMatched { get; init; } = [];

    public IReadOnlyList<TargetTimeline> Targets { get; init; } = [];
}
