using DbtRelay.Cli.Commands;
using DbtRelay.Config;
using DbtRelay.Targets;

namespace DbtRelay.Tests.Targets;

/// <summary>
/// A target type is complete only where a user meets it: <c>init</c> can start with it, the README's table describes it,
/// the schema and the shipped relay.json know it (RelayConfigTests), and it has a fake and tests of its own.
/// </summary>
public sealed class TargetTypeCoverageTests
{
    [Fact]
    public void Init_can_start_with_every_target_type_and_each_starter_loads_as_that_type()
    {
        Assert.Equal(TargetTypes.All.Keys.Order(StringComparer.Ordinal), InitCommand.StarterTypes.Order(StringComparer.Ordinal));
        foreach (var type in TargetTypes.All.Keys)
        {
            var config = RelayConfigLoader.Load(InitCommand.Starter([type]), $"init --target {type}");
            Assert.Contains(config.Targets.Values, t => t.Type == type);
        }
    }

    [Fact]
    public void The_readme_table_has_a_row_for_every_target_type()
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root(), "README.md"));
        foreach (var type in TargetTypes.All.Keys) Assert.Contains($"\n| `{type}` |", readme, StringComparison.Ordinal);
    }
}
