namespace DbtRelay.Config.Nodes;

/// <summary>One problem in relay.json, with the JSON path that locates it.</summary>
public sealed record ConfigProblem(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
