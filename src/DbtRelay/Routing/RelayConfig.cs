using DbtRelay.Targets;

namespace DbtRelay.Routing;

/// <summary>relay.json, validated: webhooks to accept, targets to call, routes between them.</summary>
public sealed record RelayConfig(
    IReadOnlyList<WebhookDefinition> Webhooks,
    IReadOnlyDictionary<string, IDeliveryTarget> Targets,
    IReadOnlyList<Route> Routes,
    IReadOnlyDictionary<string, string> Vars,
    IReadOnlyList<ConfigProblem> Warnings)
{
    /// <summary>Every secret name relay.json references, with where it is referenced.</summary>
    public IEnumerable<(string Secret, string UsedBy)> SecretReferences =>
        Webhooks.Select(w => (w.Secret, $"webhook {w.Name}"))
            .Concat(Targets.Values.SelectMany(t => t.SecretNames.Select(s => (s, $"target {t.Name}"))));
}

/// <summary>One dbt Cloud webhook subscription whose signatures are accepted.</summary>
public sealed record WebhookDefinition(string Name, string Secret);

public sealed record Route(string Name, RouteCondition When, IReadOnlyList<string> Targets);

/// <summary>When a relay.json configuration is invalid: every problem, each with its JSON path.</summary>
public sealed class RelayConfigException(string source, IReadOnlyList<ConfigProblem> problems)
    : Exception($"{source} has {problems.Count} problem(s):{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(p => $"  - {p}")))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
