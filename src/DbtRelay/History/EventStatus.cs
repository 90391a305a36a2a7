namespace DbtRelay.History;

/// <summary>
/// Where an event, or one of its targets, stands. An event is <c>skipped</c> when no route matched it, otherwise
/// the worst of its targets: dead-lettered, then retrying, then queued, then delivered.
/// </summary>
public static class EventStatus
{
    public const string Queued = "queued";
    public const string Delivered = "delivered";
    public const string Retrying = "retrying";
    public const string DeadLettered = "dead-lettered";
    public const string Skipped = "skipped";

    public static readonly IReadOnlyList<string> All = [Queued, Delivered, Retrying, DeadLettered, Skipped];

    public static string Of(IReadOnlyCollection<TargetTimeline> targets) =>
        targets.Count == 0 ? Skipped
        : targets.Any(t => t.State == DeadLettered) ? DeadLettered
        : targets.Any(t => t.State == Retrying) ? Retrying
        : targets.Any(t => t.State == Queued) ? Queued
        : Delivered;
}
