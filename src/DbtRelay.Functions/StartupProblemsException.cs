namespace DbtRelay.Functions;

/// <summary>Everything wrong with the app's configuration (relay.json and settings), found before any function runs.</summary>
public sealed class StartupProblemsException(string relayConfigPath, IReadOnlyList<string> problems)
    : Exception($"{problems.Count} configuration problem(s): {string.Join("; ", problems)}")
{
    public string RelayConfigPath { get; } = relayConfigPath;

    public IReadOnlyList<string> Problems { get; } = problems;
}
