using System.Reflection;
using Azure.Security.KeyVault.Secrets;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.History;
using DbtRelay.Operations;
using DbtRelay.Routing;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TokenCredential = Azure.Core.TokenCredential;

namespace DbtRelay;

public static class RelayServiceCollectionExtensions
{
    /// <summary>
    /// Everything both hosts share: options (validated at startup), the secret store, webhook secrets (preloaded
    /// before traffic), intake, router, delivery executor and the targets' HTTP client. The host adds its queues
    /// (<see cref="IRelayQueues"/>), its ledger store (<see cref="IConditionalStore"/>) and its dead letters
    /// (<see cref="IDeadLetters"/>): none is registered here, so a host cannot silently end up with a per-process
    /// ledger.
    /// </summary>
    public static IServiceCollection AddDbtRelay(this IServiceCollection services, IConfiguration configuration, RelayConfig relayConfig)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(relayConfig);
        services.AddOptions<IntakeOptions>().Bind(configuration.GetSection(IntakeOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RetryOptions>().Bind(configuration.GetSection(RetryOptions.Section)).ValidateDataAnnotations().ValidateOnStart();

        services.AddOptions<KeyVaultOptions>().Bind(configuration.GetSection(KeyVaultOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var keyVault = configuration.GetSection(KeyVaultOptions.Section).Get<KeyVaultOptions>() ?? new KeyVaultOptions();
        // The app's identity, for Key Vault and for targets that sign in with Entra ID (Power BI). Tests (and unusual
        // deployments) may register their own credential or client options first.
        services.TryAddSingleton(_ => AzureCredentials.Create(keyVault.ClientId));
        if (keyVault.Enabled && Uri.TryCreate(keyVault.Uri, UriKind.Absolute, out var vaultUri))
        {
            services.TryAddSingleton(sp => new SecretClient(vaultUri, sp.GetRequiredService<TokenCredential>(),
                sp.GetService<SecretClientOptions>() ?? new SecretClientOptions()));
            services.TryAddSingleton<ISecretStore>(sp => new CachingSecretStore(
                new KeyVaultSecretSource(sp.GetRequiredService<SecretClient>()), keyVault.CacheTtl,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<CachingSecretStore>>()));
        }
        services.TryAddSingleton<ISecretStore>(new ConfigurationSecretStore(configuration));
        services.AddSingleton(sp => ActivatorUtilities.CreateInstance<StoredWebhookSecrets>(sp, relayConfig.Webhooks));
        services.AddSingleton<IWebhookSecretProvider>(sp => sp.GetRequiredService<StoredWebhookSecrets>());
        // Registered first so that secrets are in memory before any host service starts taking requests.
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => sp.GetRequiredService<StoredWebhookSecrets>()));
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, RelayStoreCheck>());

        services.AddSingleton<WebhookIntake>();
        services.AddSingleton<EventRouter>();
        services.AddSingleton<DeliveryHistory>();
        services.AddSingleton<EventsApi>();
        services.AddSingleton<TargetsApi>();
        services.AddSingleton<DeadLettersApi>();
        services.AddSingleton<TargetSecrets>();
        services.AddSingleton<TargetCaller>();
        services.AddSingleton<RunFollower>();
        services.AddSingleton<TargetPauses>();
        services.AddSingleton<TargetCoalescer>();
        services.AddSingleton<RateLimitCooldowns>();
        services.AddSingleton<DeliveryExecutor>();
        services.TryAddSingleton<IDeliveryLedger, ConditionalLedger>();
        services.AddHttpClient(TargetCaller.HttpClientName, client =>
        {
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
            client.Timeout = Timeout.InfiniteTimeSpan; // each target applies its own timeout per call
        })
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect is an answer, not an instruction: following it would re-send the body and the target's
                // credentials to wherever the Location header points.
                AllowAutoRedirect = false,
                // A header template may hold any dbt field (a job name with an accent): sent as UTF-8, as curl does,
                // instead of an exception on every attempt.
                RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            // The factory's own lines log each request's full URL, and a target's URL may hold a secret (a Slack
            // webhook path); the relay logs every call's outcome itself, with the origin only.
            .RemoveAllLoggers();
        return services;
    }

    public static string Version { get; } =
        typeof(RelayServiceCollectionExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string UserAgent => $"DbtRelay/{Version}";
}
