using DbtRelay.Config;

namespace DbtRelay.Routing;

/// <summary>One route's verdict for one event.</summary>
public sealed record RouteVerdict(Route Route, string? WhyNot)
{
    public bool Matched => WhyNot is null;
}
