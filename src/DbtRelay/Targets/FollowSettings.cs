using DbtRelay.Config.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// How a target's downstream run is followed: a status check <see cref="Every"/> interval until the run ends or
/// <see cref="MaxWait"/> has passed since it started, then <see cref="OnFailure"/> is called unless it succeeded.
/// relay.json: <c>"follow": {"every": "30s", "maxWait": "6h"}</c> (or <c>false</c>) and <c>"onFailure": ["slack"]</c>.
/// </summary>
public sealed record FollowSettings(TimeSpan Every, TimeSpan MaxWait, IReadOnlyList<string> OnFailure)
{
    public static readonly TimeSpan DefaultEvery = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan DefaultMaxWait = TimeSpan.FromHours(6);

    /// <summary>The relay.json properties a followable target accepts for this.</summary>
    public static readonly string[] Properties = ["follow", "onFailure"];

    /// <summary>The follow settings of a target whose status API the relay can read; null when turned off.</summary>
    public static FollowSettings? Read(ConfigNode target)
    {
        var node = target["follow"];
        // null is refused, as relay.schema.json refuses it: one verdict whichever checks the file.
        if (node.Element.ValueKind == System.Text.Json.JsonValueKind.Null) node.Error("must be an object ({\"every\": \"30s\", \"maxWait\": \"6h\"}), true or false");
        if (target["onFailure"].Element.ValueKind == System.Text.Json.JsonValueKind.Null) target["onFailure"].Error("must be a list of target names");
        var onFailure = target["onFailure"].StringList();
        if (node.Element.ValueKind == System.Text.Json.JsonValueKind.False)
        {
            if (onFailure.Count > 0) target["onFailure"].Error("needs the run to be followed (remove \"follow\": false)");
            return null;
        }
        var every = DefaultEvery;
        var maxWait = DefaultMaxWait;
        if (node.Exists && node.Element.ValueKind != System.Text.Json.JsonValueKind.True && node.ExpectObject())
        {
            node.AllowOnly("every", "maxWait");
            every = node["every"].Duration(TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)) ?? every;
            maxWait = node["maxWait"].Duration(TimeSpan.FromMinutes(1), TimeSpan.FromDays(7)) ?? maxWait;
            if (maxWait < every) node["maxWait"].Error($"must be at least 'every' ({ConfigNode.Format(every)})");
        }
        return new FollowSettings(every, maxWait, onFailure.Distinct(StringComparer.Ordinal).ToList());
    }
}
