using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using DbtRelay.Routing;
using DbtRelay.Sqlite;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DbtRelay.Cli;

/// <summary><c>dbt-relay serve</c>: the whole relay in one process, queues in memory, no Azure needed.</summary>
internal static class ServeCommand
{
    public const string AdminKeySecret = "relay-admin-key";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = RelayCli.ConfigOption();
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen (default {RelayCli.DefaultUrl}; use http://0.0.0.0:PORT behind a tunnel).",
            DefaultValueFactory = _ => RelayCli.DefaultUrl,
        };
        var keyVault = new Option<Uri?>("--key-vault")
        {
            Description = "Read every secret from this Azure Key Vault (https://<name>.vault.azure.net/) with your Azure identity; same as KeyVault__Uri.",
        };
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
        var inMemory = new Option<bool>("--in-memory")
        {
            Description = "Keep everything in memory: for trying things out; whatever is queued is lost when serve stops.",
        };
        var command = new Command("serve", "Run the relay locally: intake, routing and delivery, stored in an embedded database.")
        {
            config, urls, keyVault, data, durability, storage, inMemory,
        };
        command.Validators.Add(result =>
        {
            var chosen = new[] { result.GetResult(data) is not null, result.GetResult(storage) is not null, result.GetValue(inMemory) }.Count(x => x);
            if (chosen > 1) result.AddError("Choose one store: --data, --storage or --in-memory.");
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = RelayCli.ResolveConfigPath(parse.GetValue(config));
            var settings = parse.GetValue(keyVault) is { } vault
                ? new Dictionary<string, string?> { ["KeyVault:Uri"] = vault.ToString() }
                : null;
            ServeStore store = parse.GetValue(inMemory) ? new ServeStore.InMemory()
                : parse.GetValue(storage) is { } account ? new ServeStore.AzureStorage(account)
                : new ServeStore.Embedded(parse.GetValue(data)?.FullName ?? ServeStore.DefaultDataPath, parse.GetValue(durability));
            var app = Build(path, parse.GetValue(urls)!, error, store, settings);
            if (app is null) return 2;
            await using (app)
            {
                if (!await StartAsync(app, error)) return 2;
                PrintBanner(app, path, output);
                await app.WaitForShutdownAsync(CancellationToken.None);
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The serve host, not yet started; null (with every problem printed) when relay.json is invalid or the store
    /// cannot be used.
    /// </summary>
    public static WebApplication? Build(string configPath, string urls, TextWriter error, ServeStore store,
        IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        var relayConfig = RelayCli.LoadConfig(configPath, error);
        if (relayConfig is null) return null;
        var registerStore = StoreRegistration(store, error);
        if (registerStore is null) return null;

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddConfiguration(RelayCli.Configuration(settings));
        builder.WebHost.UseUrls(urls);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
        builder.Services.AddDbtRelay(builder.Configuration, relayConfig);
        registerStore(builder.Services);
        builder.Services.AddSingleton(store);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            // Once shutdown starts, refuse new events (dbt retries) so nothing is accepted after the drain.
            if (app.Lifetime.ApplicationStopping.IsCancellationRequested && context.Request.Path.StartsWithSegments(RelayCli.WebhookPath))
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return;
            }
            await next(context);
        });
        app.MapIntake();
        MapDeadLetters(app);
        return app;
    }

    /// <summary>Opens the store now, so that a locked, unreadable or corrupt one is a clear startup error.</summary>
    private static Action<IServiceCollection>? StoreRegistration(ServeStore store, TextWriter error)
    {
        switch (store)
        {
            case ServeStore.InMemory:
                return services => services.AddDbtRelayInMemoryPipeline();
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
    }

    public static IReadOnlyList<string> Addresses(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    private static void PrintBanner(WebApplication app, string configPath, TextWriter output)
    {
        var config = app.Services.GetRequiredService<RelayConfig>();
        var secrets = app.Services.GetRequiredService<IWebhookSecretProvider>().Current;
        var store = app.Services.GetRequiredService<ISecretStore>();
        output.WriteLine($"DbtRelay {RelayServiceCollectionExtensions.Version} serving {configPath}");
        output.WriteLine($"  secrets from: {store.Describe("<name>")}");
        output.WriteLine($"  store: {app.Services.GetRequiredService<ServeStore>().Describe()}");
        foreach (var address in Addresses(app)) output.WriteLine($"  listening: POST {address}{RelayCli.WebhookPath}   (health: {address}/api/health)");
        foreach (var webhook in config.Webhooks)
        {
            var loaded = secrets.FirstOrDefault(s => s.Name == webhook.Name);
            output.WriteLine(loaded is null
                ? $"  webhook {webhook.Name}: secret {webhook.Secret} NOT SET ({store.Describe(webhook.Secret)})"
                : $"  webhook {webhook.Name}: secret {webhook.Secret} loaded (fingerprint {loaded.Fingerprint})");
        }
        foreach (var route in config.Routes) output.WriteLine($"  route {route.Name} → {string.Join(", ", route.Targets)}");
        foreach (var warning in config.Warnings) output.WriteLine($"  warning: {warning}");
        output.WriteLine("Ctrl+C stops after the queued events are delivered.");
        output.Flush();
    }

    /// <summary>
    /// The ops API (dead letters: list, replay all, replay one), the same routes as the Functions app. Guarded by the
    /// secret relay-admin-key (header x-relay-admin-key) because serve may be exposed through a tunnel; without that
    /// secret the routes are off.
    /// </summary>
    private static void MapDeadLetters(WebApplication app)
    {
        var ops = app.MapGroup("/api/" + DeadLetterRoutes.Base).AddEndpointFilter(async (context, next) =>
        {
            var store = context.HttpContext.RequestServices.GetRequiredService<ISecretStore>();
            var key = await store.GetAsync(AdminKeySecret, context.HttpContext.RequestAborted);
            if (key is null) return Results.NotFound();
            var presented = context.HttpContext.Request.Headers["x-relay-admin-key"].ToString();
            var ok = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
            return ok ? await next(context) : Results.Unauthorized();
        });
        ops.MapGet("", async (IDeadLetters deadLetters, int? max, CancellationToken ct) =>
            Json(RelayJson.Serialize(await deadLetters.ListAsync(DeadLetterRoutes.Limit(max), ct))));
        ops.MapPost("/replay", async (IDeadLetters deadLetters, int? max, CancellationToken ct) =>
            Json(RelayJson.Serialize(new ReplayAnswer(await deadLetters.ReplayAsync(DeadLetterRoutes.Limit(max), null, ct)))));
        ops.MapPost("/{eventId}/{target}/replay", async (IDeadLetters deadLetters, string eventId, string target, CancellationToken ct) =>
        {
            var replayed = await deadLetters.ReplayAsync(1, new DeliveryAddress(eventId, target), ct);
            return replayed == 0 ? Results.NotFound() : Json(RelayJson.Serialize(new ReplayAnswer(replayed)));
        });
    }

    private static IResult Json(byte[] body) => Results.Bytes(body, "application/json");
}
