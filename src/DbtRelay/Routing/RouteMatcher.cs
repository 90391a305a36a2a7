using DbtRelay.Config;
using DbtRelay.Events;

namespace DbtRelay.Routing;

public static class RouteMatcher
{
    public static IReadOnlyList<RouteVerdict> Explain(RelayConfig config, EventEnvelope envelope) =>
        config.Routes.Select(r => new RouteVerdict(r, r.When.WhyNot(envelope))).ToList();

    /// <summary>Distinct targets of every matching route: a target named by two routes is still called once.</summary>
    public static IReadOnlyList<string> Targets(IReadOnlyList<RouteVerdict> verdicts) =>
        verdicts.Where(v => v.Matched).SelectMany(v => v.Route.Targets).Distinct(StringComparer.Ordinal).ToList();
}
