using System.Text.RegularExpressions;

namespace DbtRelay.Tests;

/// <summary>
/// The README's import arrow, read from the README itself, holds for the library's sources: every namespace a folder
/// imports (a <c>using</c> line, a fully qualified <c>DbtRelay.X.Type</c>, or a type named through its folder,
/// <c>Targets.DownstreamStates</c>) is one the arrow allows it.
/// </summary>
public sealed partial class ImportArrowTests
{
    private static readonly string Library = Path.Combine(Repository.Root(), "src", "DbtRelay");

    /// <summary>Layer → layers it may import, from the README block after "Imports run one way".</summary>
    private static Dictionary<string, HashSet<string>> Arrow()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root(), "README.md"));
        var start = readme.IndexOf("Imports run one way", StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md has no import arrow ('Imports run one way')");
        var block = readme[(readme.IndexOf("```", start, StringComparison.Ordinal) + 3)..];
        block = block[..block.IndexOf("```", StringComparison.Ordinal)];
        var arrow = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var line in block.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split('→', StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].StartsWith("hosts", StringComparison.Ordinal)) continue;
            var allowed = parts[1] == "(nothing)" ? [] : parts[1].Split(',', StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            foreach (var layer in parts[0].Split(',', StringSplitOptions.TrimEntries)) arrow[layer] = allowed;
        }
        return arrow;
    }

    /// <summary>The layer of a file: its folder under src/DbtRelay, one or two levels deep when the arrow names both.</summary>
    private static string? LayerOf(string file, Dictionary<string, HashSet<string>> arrow)
    {
        var relative = Path.GetRelativePath(Library, Path.GetDirectoryName(file)!).Replace('\\', '/');
        if (relative == ".") return null; // the root: host registration, any of the above
        return arrow.ContainsKey(relative) ? relative : relative.Split('/')[0];
    }

    [Fact]
    public void Every_import_in_the_library_runs_the_way_the_readme_arrow_says()
    {
        var arrow = Arrow();
        var files = Directory.EnumerateFiles(Library, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .ToList();
        // One type per file, named after it: the file names are the types each layer defines.
        var typesOf = files.GroupBy(f => LayerOf(f, arrow) ?? ".")
            .ToDictionary(g => g.Key, g => g.Select(f => Path.GetFileNameWithoutExtension(f)).ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

        var against = new List<string>();
        foreach (var file in files)
        {
            if (LayerOf(file, arrow) is not { } layer) continue;
            Assert.True(arrow.ContainsKey(layer), $"folder {layer} is not in the README's import arrow");
            var code = File.ReadAllText(file);
            var imported = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match m in UsingLine().Matches(code)) imported.Add(m.Groups[1].Value.Replace('.', '/'));
            foreach (Match m in Qualified().Matches(code))
            {
                var path = m.Groups[1].Value.Replace('.', '/');
                if (typesOf.TryGetValue(path, out var types) && types.Contains(m.Groups[2].Value)) imported.Add(path);
            }
            foreach (var target in imported)
            {
                if (target == layer || target.StartsWith(layer + "/", StringComparison.Ordinal) && !arrow.ContainsKey(target)) continue;
                if (!arrow[layer].Contains(target)) against.Add($"{Path.GetRelativePath(Library, file)}: {layer} → {target}");
            }
        }
        Assert.True(against.Count == 0, "imports against the README's arrow:\n" + string.Join('\n', against.Distinct()));
    }

    [Fact]
    public void The_arrow_has_no_cycle_and_catches_an_import_against_it()
    {
        var arrow = Arrow();
        foreach (var layer in arrow.Keys)
        {
            // Everything a layer reaches, directly or through others, never leads back to it.
            var reached = new HashSet<string>(StringComparer.Ordinal);
            var next = new Stack<string>(arrow[layer]);
            while (next.TryPop(out var current))
            {
                Assert.True(current != layer, $"the README's arrow has a cycle through {layer}");
                if (reached.Add(current) && arrow.TryGetValue(current, out var onward)) foreach (var o in onward) next.Push(o);
            }
        }
        // Webhooks is read before Routing: a using of Routing there is exactly what the test above must report.
        Assert.DoesNotContain("Routing", arrow["Webhooks"]);
        Assert.Matches(UsingLine(), "using DbtRelay.Routing;");
        Assert.Equal("Targets", Qualified().Match(" Targets.DownstreamStates.Succeeded").Groups[1].Value);
        Assert.Equal("Config.Nodes", Qualified().Match("(Config.Nodes.ConfigNode node").Groups[1].Value);
    }

    [GeneratedRegex(@"^using DbtRelay\.([A-Za-z.]+);", RegexOptions.Multiline)]
    private static partial Regex UsingLine();

    // A type named through its namespace: DbtRelay.Targets.X, Targets.X or Config.Nodes.X (not a member access a.Targets.X).
    [GeneratedRegex(@"(?<![\w.])(?:DbtRelay\.)?((?:Secrets|Webhooks|Config|Targets|History|Delivery|Routing|Operations|Telemetry|InProcess)(?:\.(?:Nodes|Ledger))?)\.([A-Z]\w*)")]
    private static partial Regex Qualified();
}
