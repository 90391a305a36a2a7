using DbtRelay.AspNetCore;
using DbtRelay.AzureStorage;
using DbtRelay.Config;
using DbtRelay.InProcess;
using DbtRelay.Sqlite;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Cli.Serve;

/// <summary>The serve host: relay.json (or the demo), the chosen store, intake, the ops API and the demo sink on one Kestrel.</summary>
internal static class ServeHost
{
    /// <summary>
    /// The serve host, not yet started; null (with every problem printed) when relay.json is invalid or the store
    /// cannot be used.
    /// </summary>
    public static WebApplication? Build(string? configPath, string urls, TextWriter error, ServeStore store,
        IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        RelayConfig? relayConfig;
        if (configPath is null)
        {
            (urls, var relayUrl) = ListenAddresses.DemoUrls(urls);
            relayConfig = RelayConfigLoader.Load(DemoRelay.Config(relayUrl), "the demo relay.json");
        }
        else
        {
            relayConfig = RelayCli.LoadConfig(configPath, error);
        }
        if (relayConfig is null) return null;
        var registerStore = StoreRegistration(store, error);
        if (registerStore is null) return null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddConfiguration(RelayCli.Configuration(settings));
        // The standard Logging:Console:FormatterName setting (or --log-format json) picks the formatter; JSON lines carry
        // the scopes (EventId, RunId, JobId, Target, Attempt) as fields, text lines keep to the message.
        builder.Logging.ClearProviders();
        if (string.Equals(builder.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.IncludeScopes = false);
        }
        // Per-request "Request starting/finished" lines are never wanted here, and while that category is enabled
        // ASP.NET Core starts an Activity for every request: a cost under load. Kestrel still logs request failures.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        builder.WebHost.UseUrls(urls);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
        builder.Services.AddDbtRelay(builder.Configuration, relayConfig);
        registerStore(builder.Services);
        builder.Services.AddDbtRelayServer();
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<DemoRelay>();
        ServeTelemetry.Add(builder);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapDbtRelay();
        if (DemoRelay.IsCalledBy(relayConfig)) app.Services.GetRequiredService<DemoRelay>().Map(app);
        return app;
    }

    /// <summary>Opens the store now, so that a locked, unreadable or corrupt one is a clear startup error.</summary>
    private static Action<IServiceCollection>? StoreRegistration(ServeStore store, TextWriter error)
    {
        switch (store)
        {
            case ServeStore.InMemory:
                return services => services.AddDbtRelayInMemory().AddDbtRelayInProcess();
            case ServeStore.Embedded embedded:
                try
                {
                    var database = SqliteDatabase.Open(embedded.Path, embedded.Durability);
                    return services => services.AddDbtRelaySqlite(database).AddDbtRelayInProcess();
                }
                catch (IOException ex)
                {
                    error.WriteLine($"Cannot use the relay database {embedded.Path}: it is in use by another dbt-relay serve, or cannot be written ({ex.Message}).");
                    error.WriteLine("Stop the other serve, or give this one its own database with --data PATH.");
                    return null;
                }
                catch (Exception ex) when (ex is Microsoft.Data.Sqlite.SqliteException or UnauthorizedAccessException)
                {
                    error.WriteLine($"Cannot use the relay database {embedded.Path}: {ex.Message}");
                    error.WriteLine("If the file is damaged, move it aside (keep it: it may hold undelivered events) and start again, or pass --data PATH.");
                    return null;
                }
            case ServeStore.AzureStorage azure:
                try
                {
                    var clients = StorageClients.FromConnectionStringOrUrl(azure.ConnectionStringOrUrl);
                    return services => services.AddDbtRelayAzureStorageConsumer(clients).AddDbtRelayInProcess();
                }
                catch (Exception ex) when (ex is FormatException or ArgumentException)
                {
                    error.WriteLine($"--storage is neither a storage connection string nor an account URL: {ex.Message}");
                    return null;
                }
            default:
                throw new ArgumentOutOfRangeException(nameof(store), store, null);
        }
    }

    public static async Task<bool> StartAsync(WebApplication app, TextWriter error)
    {
        try
        {
            // Settings first, on their own: the host would log a failed validation with its stack trace before
            // rethrowing, and a mistyped setting deserves one line.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.StartAsync();
            return true;
        }
        catch (OptionsValidationException ex)
        {
            error.WriteLine($"Invalid settings: {string.Join("; ", ex.Failures)}");
            return false;
        }
        catch (IOException ex)
        {
            error.WriteLine($"Cannot listen: {ex.Message}");
            return false;
        }
        catch (StorageUnavailableException ex)
        {
            error.WriteLine($"{ex.Message}. Check --storage (Azurite: start it with --skipApiVersionCheck).");
            return false;
        }
    }

    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];
}
