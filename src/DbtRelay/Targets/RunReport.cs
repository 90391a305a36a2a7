namespace DbtRelay.Targets;

/// <summary>A status API answered: the run's state (a failure to answer is a <see cref="RetryLater"/> or a <see cref="Failed"/>).</summary>
public sealed record RunReport(string Detail, DownstreamRun Run) : TargetOutcome(Detail);
