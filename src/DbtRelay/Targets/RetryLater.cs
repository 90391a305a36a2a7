namespace DbtRelay.Targets;

/// <summary>Transient: try again later, not before <paramref name="After"/> when the target said so (Retry-After).</summary>
public sealed record RetryLater(string Detail, TimeSpan? After = null) : TargetOutcome(Detail);
