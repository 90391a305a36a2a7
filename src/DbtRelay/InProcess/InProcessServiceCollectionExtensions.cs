using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
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
}
