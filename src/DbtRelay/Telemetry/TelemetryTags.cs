namespace DbtRelay.Telemetry;

/// <summary>Span attribute names, the same on every span of an event's trace.</summary>
public static class TelemetryTags
{
    public const string EventId = "dbtrelay.event_id";
    public const string JobId = "dbt.job_id";
    public const string RunId = "dbt.run_id";
    public const string Target = "dbtrelay.target";
    public const string TargetType = "dbtrelay.target_type";
    public const string Attempt = "dbtrelay.attempt";
    public const string Outcome = "dbtrelay.outcome";
    public const string DownstreamId = "dbtrelay.downstream.id";
    public const string DownstreamState = "dbtrelay.downstream.state";
    public const string FollowCheck = "dbtrelay.follow.check";
}
