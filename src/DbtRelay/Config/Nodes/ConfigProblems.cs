namespace DbtRelay.Config.Nodes;

/// <summary>Collects every problem of a configuration so they can be reported together.</summary>
public sealed class ConfigProblems
{
    private readonly List<ConfigProblem> _errors = [];
    private readonly List<ConfigProblem> _warnings = [];

    public IReadOnlyList<ConfigProblem> Errors => _errors;
    public IReadOnlyList<ConfigProblem> Warnings => _warnings;

    public void Error(string path, string message) => _errors.Add(new(path, message));
    public void Warning(string path, string message) => _warnings.Add(new(path, message));
}
