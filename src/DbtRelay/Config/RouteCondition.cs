using System.Globalization;
using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Config;

/// <summary>
/// A route's <c>when</c>: conditions AND together, values inside one list OR, an empty list matches anything.
/// One exception, for safety: an empty <c>eventTypes</c> means <c>job.run.completed</c> only, because dbt sends
/// <c>completed</c> for every finished run (with its status) and a sync on <c>started</c> is never what
/// "anything" meant.
/// </summary>
public sealed record RouteCondition(
    IReadOnlySet<string> EventTypes,
    IReadOnlySet<int> RunStatusCodes,
    IReadOnlySet<string> JobIds,
    IReadOnlySet<string> EnvironmentIds,
    IReadOnlySet<string> ProjectIds)
{
    /// <summary>Conditions on any other field of the event (<c>when.fields</c>), all of which must hold.</summary>
    public IReadOnlyList<FieldCondition> Fields { get; init; } = [];

    public const string Completed = "job.run.completed";
    public const string Errored = "job.run.errored";
    public const string Started = "job.run.started";
    public static readonly IReadOnlySet<string> DefaultEventTypes = new HashSet<string> { Completed };

    /// <summary>Null when the event matches; otherwise the first condition that failed, in words.</summary>
    public string? WhyNot(EventEnvelope e)
    {
        if (!EventTypes.Contains(e.EventType))
            return $"eventType {e.EventType} is not one of [{string.Join(", ", EventTypes)}]";
        if (RunStatusCodes.Count > 0 && (e.RunStatusCode is not { } code || !RunStatusCodes.Contains(code)))
            return $"runStatus {e.RunStatus ?? "(none)"} ({e.RunStatusCode?.ToString(CultureInfo.InvariantCulture) ?? "no code"}) is not one of [{string.Join(", ", RunStatusCodes.Select(DbtRunStatus.Name))}]";
        if (!Matches(JobIds, e.JobId)) return $"jobId {e.JobId ?? "(none)"} is not one of [{string.Join(", ", JobIds)}]";
        if (!Matches(EnvironmentIds, e.EnvironmentId)) return $"environmentId {e.EnvironmentId ?? "(none)"} is not one of [{string.Join(", ", EnvironmentIds)}]";
        if (!Matches(ProjectIds, e.ProjectId)) return $"projectId {e.ProjectId ?? "(none)"} is not one of [{string.Join(", ", ProjectIds)}]";
        if (Fields.Count == 0) return null;
        using var body = JsonDocument.Parse(e.Body);
        return Fields.Select(f => f.WhyNot(body.RootElement)).FirstOrDefault(why => why is not null);
    }

    /// <summary>Can one errored run fire this route twice (once for completed, once for errored)?</summary>
    public bool FiresTwiceForAnErroredRun =>
        EventTypes.Contains(Completed) && EventTypes.Contains(Errored)
        && (RunStatusCodes.Count == 0 || RunStatusCodes.Contains(DbtRunStatus.Error));

    private static bool Matches(IReadOnlySet<string> allowed, string? value) => allowed.Count == 0 || value is not null && allowed.Contains(value);
}
