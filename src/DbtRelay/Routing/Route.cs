using DbtRelay.Targets;

namespace DbtRelay.Routing;

public sealed record Route(string Name, RouteCondition When, IReadOnlyList<string> Targets);
