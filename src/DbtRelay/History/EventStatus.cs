namespace DbtRelay.History;

/// <summary>
/// Where an event, or one of its targets, stands. A target is <c>delivered</c> once it took the call; when its
/// downstream run is followed, it then becomes <c>succeeded</c>, <c>failed</c> (the run failed, was cancelled or did
/// not finish within maxWait) or <c>unknown</c> (the status API could not tell). An event is <c>skipped</c> when no
/// route matched it, otherwise the worst of its targets: dead-lettered, failed, retrying, queued, unknown, delivered,
/// and <c>succeeded</c> only when every target's run succeeded.
/// </summary>
public static class EventStatus
{
    public const string Queued = "queued";
    public const string Delivered = "delivered";
    public const string Retrying = "retrying";
    public const string DeadLettered = "dead-lettered";
    public const string Skipped = "skipped";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Unknown = "unknown";

    public static readonly IReadOnlyList<string> All = [Queued, Delivered, Retrying, DeadLettered, Skipped, Succeeded, Failed, Unknown];

    /// <summary>A target's state once its followed run ended.</summary>
    public static string OfRun(string runState) => runState switch
    {
        Targets.DownstreamStates.Succeeded => Succeeded,
        Targets.DownstreamStates.Unknown => Unknown,
        Targets.DownstreamStates.Running => Delivered,
        _ => Failed,
    };

    public static string Of(IReadOnlyCollection<TargetTimeline> targets) =>
        targets.Count == 0 ? Skipped
        : targets.Any(t => t.State == DeadLettered) ? DeadLettered
        : targets.Any(t => t.State == Failed) ? Failed
        : targets.Any(t => t.State == Retrying) ? Retrying
        : targets.Any(t => t.State == Queued) ? Queued
        : targets.Any(t => t.State == Unknown) ? Unknown
        : targets.All(t => t.State == Succeeded) ? Succeeded
        : Delivered;
}
