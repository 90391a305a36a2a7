using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.InProcess;

/// <summary>What a host that runs the pipeline itself (<c>dbt-relay serve</c>) adds after <c>AddDbtRelay</c>.</summary>
public static class InProcessServiceCollectionExtensions
{
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
    /// Queues, ledger and dead letters in this process's memory, the same set every store's <c>AddX()</c> registers:
    /// for tests and <c>serve --in-memory</c>. Never a default: nothing here survives the process.
    /// </summary>
    public static IServiceCollection AddDbtRelayInMemory(this IServiceCollection services)
    {
        services.AddSingleton<InMemoryRelayQueues>();
        services.AddSingleton<IRelayQueues>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IDeadLetters>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IQueueConsumer>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IAcceptedEventStore>(sp => sp.GetRequiredService<InMemoryRelayQueues>());
        services.AddSingleton<IConditionalStore, InMemoryConditionalStore>();
        return services;
    }
}
