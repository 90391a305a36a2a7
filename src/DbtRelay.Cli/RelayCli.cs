using System.CommandLine;
using DbtRelay.Routing;
using Microsoft.Extensions.Configuration;

namespace DbtRelay.Cli;

/// <summary>The <c>dbt-relay</c> command line.</summary>
internal static class RelayCli
{
    public const string DefaultUrl = "http://127.0.0.1:7071";
    public const string WebhookPath = "/api/dbt/webhook";

    public static RootCommand Build(TextWriter output, TextWriter error) =>
        new("dbt-relay: turns dbt Cloud job events into downstream syncs.")
        {
            ServeCommand.Create(output, error),
            SendCommand.Create(output, error),
            CheckCommand.Create(output, error),
        };

    public static Option<FileInfo?> ConfigOption() => new("--config", "-c")
    {
        Description = "relay.json to use (default: ./relay.json, else the example shipped next to dbt-relay).",
    };

    /// <summary>./relay.json when present, else the example copied next to the executable.</summary>
    public static string ResolveConfigPath(FileInfo? option)
    {
        if (option is not null) return option.FullName;
        var local = Path.Combine(Environment.CurrentDirectory, "relay.json");
        return File.Exists(local) ? local : Path.Combine(AppContext.BaseDirectory, "relay.json");
    }

    /// <summary>appsettings.json next to the executable, then environment variables (Secrets__name, …), then overrides.</summary>
    public static IConfigurationRoot Configuration(IEnumerable<KeyValuePair<string, string?>>? overrides = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? [])
            .Build();

    /// <summary>Loads relay.json, printing every problem with its path; null when it is invalid.</summary>
    public static RelayConfig? LoadConfig(string path, TextWriter error)
    {
        try
        {
            return RelayConfigLoader.LoadFile(path);
        }
        catch (RelayConfigException ex)
        {
            error.WriteLine(ex.Message);
            return null;
        }
    }
}
