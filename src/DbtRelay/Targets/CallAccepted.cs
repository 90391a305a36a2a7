namespace DbtRelay.Targets;

/// <summary>
/// The target took the call; the executor then records the delivery as <c>delivered</c>. Detail: the downstream id,
/// e.g. RudderStack's syncId or the new dbt run id.
/// </summary>
public sealed record CallAccepted(string Detail) : TargetOutcome(Detail);
