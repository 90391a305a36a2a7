using DbtRelay.Config.Nodes;

namespace DbtRelay.Config;

/// <summary>When a relay.json configuration is invalid: every problem, each with its JSON path.</summary>
public sealed class RelayConfigException(string source, IReadOnlyList<ConfigProblem> problems)
    : Exception($"{source} has {problems.Count} problem(s):{Environment.NewLine}" +
                string.Join(Environment.NewLine, problems.Select(p => $"  - {p}")))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
