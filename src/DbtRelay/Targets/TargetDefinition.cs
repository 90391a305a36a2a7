using DbtRelay.Config.Nodes;

namespace DbtRelay.Targets;

/// <summary>What each target type reads from its relay.json entry.</summary>
public sealed record TargetDefinition(string Name, ConfigNode Node, IReadOnlyDictionary<string, string> Vars)
{
    /// <summary>The longest <c>timeoutSeconds</c> a target may set; host.json's functionTimeout is sized from it.</summary>
    public const int MaxTimeoutSeconds = 300;

    /// <summary>Per-call timeout, <c>timeoutSeconds</c> (default 30 s).</summary>
    public TimeSpan Timeout => TimeSpan.FromSeconds(Node["timeoutSeconds"].Number(required: false, 1, MaxTimeoutSeconds) ?? 30);

    public Template? Template(string property, bool required)
    {
        var node = Node[property];
        var text = node.Text(required);
        return text is null ? null : Targets.Template.Parse(text, node.Path, Node.Problems, Vars);
    }
}
