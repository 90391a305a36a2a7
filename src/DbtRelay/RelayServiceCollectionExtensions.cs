using System.Reflection;
using Azure.Security.KeyVault.Secrets;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.InProcess;
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
        if (keyVault.Enabled && Uri.TryCreate(keyVault.Uri, UriKind.Absolute, out var vaultUri))
        {
            // Tests (and unusual deployments) may register their own credential or client options first.
            services.TryAddSingleton(_ => AzureCredentials.Create(keyVault.ClientId));
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

        services.AddSingleton<WebhookIntake>();
        services.AddSingleton<EventRouter>();
        services.AddSingleton<DeliveryExecutor>();
        services.TryAddSingleton<IDeliveryLedger, ConditionalLedger>();
        services.AddHttpClient(DeliveryExecutor.HttpClientName, client =>
        {
            client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
            client.Timeout = Timeout.InfiniteTimeSpan; // each target applies its own timeout per call
        });
        return services;
    }

    /// <summary>
    /// The route → deliver loop of a host that runs the pipeline itself (<c>dbt-relay serve</c>), over the
    /// <see cref="IQueueConsumer"/> that the store's own registration provides.
    /// </summary>
    public static IServiceCollection AddDbtRelayInProcess(this IServiceCollection services)
    {
        services.AddOptions<PipelineOptions>().BindConfiguration(PipelineOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LocalPipeline>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalPipeline>());
        return services;
    }

    /// <summary>
    /// Queues, ledger and dead letters in this process's memory plus the loop: for tests and
    /// <c>serve --in-memory</c>. Never a default: nothing here survives the process.
    /// </summary>
    public static IServiceCollection AddDbtRelayInMemoryPipeline(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryRelayQueues>();
        services.AddSingleton<IRelayQueues>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IDeadLetters>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IQueueConsumer>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IConditionalStore, InMemoryConditionalStore>();
        return services.AddDbtRelayInProcess();
    }

    public static string Version { get; } =
        typeof(RelayServiceCollectionExtensions).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static string UserAgent => $"DbtRelay/{Version}";
}
