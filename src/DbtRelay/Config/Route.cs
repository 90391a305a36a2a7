namespace DbtRelay.Config;

public sealed record Route(string Name, RouteCondition When, IReadOnlyList<string> Targets);
