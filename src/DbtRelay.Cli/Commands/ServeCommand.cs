using System.CommandLine;
using DbtRelay.Cli.Serve;
using DbtRelay.Sqlite;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay serve</c>: the whole relay in one process, stored in an embedded database by default.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = RelayCli.ConfigOption();
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen (default {RelayCli.DefaultUrl}; use http://0.0.0.0:PORT behind a tunnel).",
            DefaultValueFactory = _ => RelayCli.DefaultUrl,
        };
        var keyVault = RelayCli.UrlOption("--key-vault",
            "Read every secret from this Azure Key Vault (https://<name>.vault.azure.net/) with your Azure identity; same as KeyVault__Uri.");
        var data = new Option<FileInfo?>("--data")
        {
            Description = $"The embedded database holding queues, retries, ledger and dead letters (default {ServeStore.DefaultDataPath}).",
        };
        var durability = new Option<SqliteDurability>("--durability")
        {
            Description = "full (default): every accepted event is fsync'd before the 202; normal: survives a crash of serve, not of the machine.",
            DefaultValueFactory = _ => SqliteDurability.Full,
        };
        var storage = new Option<string?>("--storage")
        {
            Description = "Keep everything in an Azure Storage account instead (connection string, or https://NAME.queue.core.windows.net with your Azure identity): several serve instances can share it.",
        };
        var logFormat = new Option<string>("--log-format")
        {
            Description = "text (default) or json: one JSON object per line, scopes (EventId, RunId, JobId, Target, Attempt) as fields; same as Logging__Console__FormatterName=json.",
            DefaultValueFactory = _ => "text",
        };
        logFormat.AcceptOnlyFromAmong("text", "json");
        var inMemory = new Option<bool>("--in-memory")
        {
            Description = "Keep everything in memory: for trying things out; whatever is queued is lost when serve stops.",
        };
        var command = new Command("serve", "Run the relay locally: intake, routing and delivery, stored in an embedded database.")
        {
            config, urls, keyVault, data, durability, storage, inMemory, logFormat,
        };
        command.Validators.Add(result =>
        {
            var chosen = new[] { result.GetResult(data) is not null, result.GetResult(storage) is not null, result.GetValue(inMemory) }.Count(x => x);
            if (chosen > 1) result.AddError("Choose one store: --data, --storage or --in-memory.");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = RelayCli.ResolveConfigPath(parse.GetValue(config));
            var settings = new Dictionary<string, string?>();
            if (parse.GetValue(keyVault) is { } vault) settings["KeyVault:Uri"] = vault.ToString();
            if (parse.GetValue(logFormat) == "json") settings["Logging:Console:FormatterName"] = "json";
            ServeStore store = parse.GetValue(inMemory) ? new ServeStore.InMemory()
                : parse.GetValue(storage) is { } account ? new ServeStore.AzureStorage(account)
                : new ServeStore.Embedded(parse.GetValue(data)?.FullName ?? ServeStore.DefaultDataPath, parse.GetValue(durability));
            if (ListenAddresses.AddressInUse(parse.GetValue(urls)!) is { } taken)
            {
                error.WriteLine($"Cannot listen on {taken}: the address is in use (another dbt-relay serve, or func start?).");
                error.WriteLine($"Stop it, or choose another address: dbt-relay serve --urls http://127.0.0.1:7072");
                return 2;
            }
            var app = ServeHost.Build(path, parse.GetValue(urls)!, error, store, settings);
            if (app is null) return 2;
            await using (app)
            {
                if (!await ServeHost.StartAsync(app, error)) return 2;
                var banner = new StringWriter();
                await ServeBanner.PrintBannerAsync(app, path, banner, cancellationToken);
                await ServeBanner.WriteBannerAsync(banner.ToString(), ServeBanner.IsJson(app), output);
                await app.WaitForShutdownAsync(CancellationToken.None);
            }
            return 0;
        });
        return command;
    }
}
