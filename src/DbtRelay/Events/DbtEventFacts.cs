namespace DbtRelay.Events;

/// <summary>The facts of a dbt Cloud webhook that routing needs, read leniently from the signed body.</summary>
public sealed record DbtEventFacts(
    string EventId,
    string EventType,
    long? AccountId,
    string? WebhookId,
    string? JobId,
    string? RunId,
    string? EnvironmentId,
    string? ProjectId,
    string? RunStatus,
    int? RunStatusCode,
    DateTimeOffset? Timestamp = null)
{
    /// <summary>The status code, from <c>runStatusCode</c> or, failing that, the <c>runStatus</c> name.</summary>
    public int? EffectiveStatusCode => RunStatusCode ?? DbtRunStatus.ToCode(RunStatus);
}
