using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.InProcess;
using DbtRelay.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DbtRelay.AzureStorage;

public static class AzureStorageServiceCollectionExtensions
{
    /// <summary>
    /// The relay's queues, ledger and dead letters on one Azure Storage account (the Functions app's host storage,
    /// or Azurite). The bootstrap is registered first so queues and the ledger container exist before any trigger or
    /// request is served.
    /// </summary>
    public static IServiceCollection AddDbtRelayAzureStorage(this IServiceCollection services, StorageClients storage)
    {
        services.AddSingleton(storage);
        services.AddSingleton<StorageRelayQueues>();
        services.AddSingleton<IRelayQueues>(sp => sp.GetRequiredService<StorageRelayQueues>());
        services.AddSingleton<IAcceptedEventStore>(sp => sp.GetRequiredService<StorageRelayQueues>());
        services.AddSingleton<IConditionalStore, BlobConditionalStore>();
        services.AddSingleton<IDeadLetters, StorageDeadLetters>();
        services.Insert(0, ServiceDescriptor.Singleton<IHostedService, StorageBootstrap>());
        return services;
    }

    /// <summary>
    /// The same, for a host that runs route → deliver itself (<c>dbt-relay serve --storage</c>): it also receives
    /// the queues, as the Functions host's triggers would.
    /// </summary>
    public static IServiceCollection AddDbtRelayAzureStorageConsumer(this IServiceCollection services, StorageClients storage)
    {
        services.AddDbtRelayAzureStorage(storage);
        services.AddSingleton<IQueueConsumer, StorageQueueConsumer>();
        return services;
    }
}
