namespace DbtRelay.Targets;

/// <summary>The target took the request (detail: the downstream id, e.g. RudderStack's syncId or the new dbt run id).</summary>
public sealed record Delivered(string Detail) : TargetOutcome(Detail);
