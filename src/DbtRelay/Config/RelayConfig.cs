using DbtRelay.Config.Nodes;
using DbtRelay.Targets;
using DbtRelay.Webhooks;

namespace DbtRelay.Config;

/// <summary>relay.json, validated: webhooks to accept, targets to call, routes between them.</summary>
public sealed record RelayConfig(
    IReadOnlyList<WebhookDefinition> Webhooks,
    IReadOnlyDictionary<string, IDeliveryTarget> Targets,
    IReadOnlyList<Route> Routes,
    IReadOnlyDictionary<string, string> Vars,
    IReadOnlyList<ConfigProblem> Warnings)
{
    /// <summary>The targets with a <c>coalesce</c> window: events routed to one within it become one call.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Coalesce { get; init; } = new Dictionary<string, TimeSpan>();

    /// <summary>Every secret name relay.json references, with where it is referenced.</summary>
    public IEnumerable<(string Secret, string UsedBy)> SecretReferences =>
        Webhooks.Select(w => (w.Secret, $"webhook {w.Name}"))
            .Concat(Targets.Values.SelectMany(t => t.SecretNames.Select(s => (s, $"target {t.Name}"))));
}
