using System.CommandLine;
using DbtRelay.Cli.Commands;
using DbtRelay.Config;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;

namespace DbtRelay.Cli;

/// <summary>The <c>dbt-relay</c> command line.</summary>
internal static class RelayCli
{
    public const string DefaultUrl = "http://127.0.0.1:7071";
    public const string WebhookPath = "/api/" + WebhookIntake.Route;

    /// <summary>Whether a key or token may go to <paramref name="url"/>: over https, or to this machine.</summary>
    public static bool MayCarryCredentials(Uri url) => url.Scheme == Uri.UriSchemeHttps || url.IsLoopback;

    /// <summary>
    /// JSON a person reads or edits (send --print, init): indented, and with '+', quotes and accents as they are rather
    /// than \u002B escapes. Still valid JSON; the wire formats keep the default, stricter escaping.
    /// </summary>
    public static readonly System.Text.Json.JsonSerializerOptions HumanJson = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static RootCommand Build(TextWriter output, TextWriter error) =>
        new("dbt-relay: turns dbt Cloud job events into downstream syncs.")
        {
            InitCommand.Create(output, error),
            ServeCommand.Create(output, error),
            SendCommand.Create(output, error),
            CheckCommand.Create(output, error),
            WebhooksCommand.Create(output, error),
            EventsCommand.Create(output, error),
            TraceCommand.Create(output, error),
            RedeliverCommand.Create(output, error),
            TargetsCommand.Create(output, error),
        };

    public static Option<FileInfo?> ConfigOption() => new("--config", "-c")
    {
        Description = "relay.json to use (default: ./relay.json).",
    };

    /// <summary>An option holding an absolute http(s) URL; anything else is a parse error naming the option.</summary>
    public static Option<Uri?> UrlOption(string name, string description, bool required = false, params string[] aliases) => new(name, aliases)
    {
        Description = description,
        Required = required,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Scheme is "https" or "http") return url;
            result.AddError($"{name} {text} is not an http(s) URL.");
            return null;
        },
    };

    /// <summary>The --config file, else ./relay.json when there is one; null when there is neither.</summary>
    public static string? ResolveConfigPath(FileInfo? option)
    {
        if (option is not null) return option.FullName;
        var local = Path.Combine(Environment.CurrentDirectory, "relay.json");
        return File.Exists(local) ? local : null;
    }

    /// <summary>What to say when a command needs relay.json and there is none.</summary>
    public static string NoConfig => $"No relay.json in {Environment.CurrentDirectory}. Write one with `dbt-relay init`, or pass --config PATH.";

    /// <summary>Reads a file the user named; null (with a one-line reason) when it cannot be read.</summary>
    public static async Task<byte[]?> ReadUserFileAsync(FileInfo file, string what, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return await File.ReadAllBytesAsync(file.FullName, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"Cannot read {what} {file.FullName}: {(ex is FileNotFoundException or DirectoryNotFoundException ? "no such file" : ex.Message)}.");
            return null;
        }
    }

    /// <summary>appsettings.json next to the executable, then environment variables (Secrets__name, …), then overrides.</summary>
    public static IConfigurationRoot Configuration(IEnumerable<KeyValuePair<string, string?>>? overrides = null) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(overrides ?? [])
            .Build();

    /// <summary>Loads relay.json, printing every problem with its path (a file that cannot be read is one); null when invalid.</summary>
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
