using System.CommandLine;
using System.Security.Cryptography;
using System.Text;
using DbtRelay.AzureStorage;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Secrets;
using DbtRelay.Sqlite;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
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
            if (AddressInUse(parse.GetValue(urls)!) is { } taken)
            {
                error.WriteLine($"Cannot listen on {taken}: the address is in use (another dbt-relay serve, or func start?).");
                error.WriteLine($"Stop it, or choose another address: dbt-relay serve --urls http://127.0.0.1:7072");
                return 2;
            }
            var app = Build(path, parse.GetValue(urls)!, error, store, settings);
            if (app is null) return 2;
            await using (app)
            {
                if (!await StartAsync(app, error)) return 2;
                var banner = new StringWriter();
                await PrintBannerAsync(app, path, banner, cancellationToken);
                await WriteBannerAsync(banner.ToString(), IsJson(app), output);
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
    public static WebApplication? Build(string? configPath, string urls, TextWriter error, ServeStore store,
        IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? services = null)
    {
        RelayConfig? relayConfig;
        if (configPath is null)
        {
            (urls, var relayUrl) = DemoUrls(urls);
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
        builder.WebHost.UseUrls(urls);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(90));
        builder.Services.AddDbtRelay(builder.Configuration, relayConfig);
        registerStore(builder.Services);
        builder.Services.AddSingleton(store);
        builder.Services.AddSingleton<DemoRelay>();
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
        app.Services.GetRequiredService<DemoRelay>().Map(app);
        return app;
    }

    /// <summary>
    /// The demo's sink is serve itself, so its URL must be known before the host starts: a wildcard host becomes
    /// 127.0.0.1 and port 0 a free port chosen now.
    /// </summary>
    private static (string Urls, string RelayUrl) DemoUrls(string urls)
    {
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        if (Bindable(first) is not { } uri) return (urls, first);
        var port = uri.Port == 0 ? FreeLoopbackPort() : uri.Port;
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        var chosen = uri.Port == 0 ? urls.Replace(first, $"{uri.Scheme}://{uri.Host}:{port}", StringComparison.Ordinal) : urls;
        return (chosen, $"{uri.Scheme}://{host}:{port}");
    }

    /// <summary>
    /// The first address of <paramref name="urls"/> that something else already listens on, found before the host
    /// starts so that the answer is one line, not the host's startup failure with its stack trace.
    /// </summary>
    private static string? AddressInUse(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Bindable(url) is not { } uri || uri.Port == 0) continue;
            if (!System.Net.IPAddress.TryParse(uri.Host == "localhost" ? "127.0.0.1" : uri.Host.Trim('[', ']'), out var address)) continue;
            try
            {
                var probe = new System.Net.Sockets.TcpListener(address, uri.Port);
                probe.Start();
                probe.Stop();
            }
            catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                return url;
            }
        }
        return null;
    }

    /// <summary>A --urls entry as a Uri, Kestrel's wildcard hosts (* and +) read as 0.0.0.0; null when it is not a URL.</summary>
    private static Uri? Bindable(string url) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
            UriKind.Absolute, out var uri) ? uri : null;

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
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

    private static async Task PrintBannerAsync(WebApplication app, string? configPath, TextWriter output, CancellationToken cancellationToken)
    {
        var config = app.Services.GetRequiredService<RelayConfig>();
        var webhookSecrets = app.Services.GetRequiredService<IWebhookSecretProvider>().Current;
        var store = app.Services.GetRequiredService<ISecretStore>();
        var addresses = Addresses(app);
        output.WriteLine(configPath is null
            ? $"DbtRelay {RelayServiceCollectionExtensions.Version} running the demo: no relay.json in {Environment.CurrentDirectory} (`dbt-relay init` writes one)"
            : $"DbtRelay {RelayServiceCollectionExtensions.Version} serving {configPath}");
        output.WriteLine($"  store: {app.Services.GetRequiredService<ServeStore>().Describe()}");
        foreach (var address in addresses) output.WriteLine($"  listening: POST {address}{RelayCli.WebhookPath}   (health: {address}/api/health)");
        if (configPath is null)
        {
            output.WriteLine($"  demo sink: every routed event is POSTed to {(addresses.Count > 0 ? addresses[0] : "")}{DemoRelay.SinkPath} (GET it to see the calls)");
            output.WriteLine("  try it: dbt-relay send   (in another terminal)");
        }
        output.WriteLine($"  secrets from: {store.Describe("<name>")}");
        var missing = 0;
        foreach (var (secret, usedBy) in config.SecretReferences.Distinct())
        {
            var webhook = config.Webhooks.FirstOrDefault(w => $"webhook {w.Name}" == usedBy);
            var loaded = webhook is not null
                ? webhookSecrets.FirstOrDefault(s => s.Name == webhook.Name) is { } w ? $"loaded (fingerprint {w.Fingerprint})" : null
                : await store.GetAsync(secret, cancellationToken) is not null ? "loaded" : null;
            if (loaded is null) missing++;
            output.WriteLine($"    {secret} ({usedBy}): {loaded ?? $"MISSING: set {store.Describe(secret)}"}");
        }
        if (missing > 0) output.WriteLine($"  {missing} secret(s) missing: events are accepted, but the targets that need them dead-letter until they are set.");
        foreach (var route in config.Routes) output.WriteLine($"  route {route.Name} → {string.Join(", ", route.Targets)}");
        foreach (var warning in config.Warnings) output.WriteLine($"  warning: {warning}");
        output.WriteLine("Ctrl+C stops after the queued events are delivered.");
        await output.FlushAsync(cancellationToken);
    }

    private static bool IsJson(WebApplication app) =>
        string.Equals(app.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase);

    /// <summary>As text, or (JSON logs) one object per line so that a log collector reads the banner like any line.</summary>
    private static async Task WriteBannerAsync(string banner, bool json, TextWriter output)
    {
        foreach (var line in banner.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await output.WriteLineAsync(json
                ? System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["Category"] = "DbtRelay.Cli.Banner", ["Message"] = line.TrimEnd('\r').Trim() })
                : line.TrimEnd('\r'));
        }
        await output.FlushAsync();
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
            Json(DeliveryJson.Serialize(await deadLetters.ListAsync(DeadLetterRoutes.Limit(max), ct))));
        ops.MapPost("/replay", async (IDeadLetters deadLetters, int? max, CancellationToken ct) =>
            Json(DeliveryJson.Serialize(new ReplayAnswer(await deadLetters.ReplayAsync(DeadLetterRoutes.Limit(max), null, ct)))));
        ops.MapPost("/{eventId}/{target}/replay", async (IDeadLetters deadLetters, string eventId, string target, CancellationToken ct) =>
        {
            var replayed = await deadLetters.ReplayAsync(1, new DeliveryAddress(eventId, target), ct);
            return replayed == 0 ? Results.NotFound() : Json(DeliveryJson.Serialize(new ReplayAnswer(replayed)));
        });
    }

    private static IResult Json(byte[] body) => Results.Bytes(body, "application/json");
}
