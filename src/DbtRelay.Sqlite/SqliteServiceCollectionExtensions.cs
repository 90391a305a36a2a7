using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.InProcess;
using DbtRelay.Webhooks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Sqlite;

public static class SqliteServiceCollectionExtensions
{
    /// <summary>
    /// Queues, ledger and dead letters in the embedded database <paramref name="database"/> (opened by the host, so
    /// that a bad file is reported before anything starts), with retention pruning.
    /// </summary>
    public static IServiceCollection AddDbtRelaySqlite(this IServiceCollection services, SqliteDatabase database, TimeSpan? retention = null)
    {
        // Registered by factory so that the container disposes it (closing the file and its lock) after the pipeline stops.
        services.AddSingleton(_ => database);
        services.AddSingleton<SqliteRelayQueues>();
        services.AddSingleton<IRelayQueues>(sp => sp.GetRequiredService<SqliteRelayQueues>());
        services.AddSingleton<IDeadLetters>(sp => sp.GetRequiredService<SqliteRelayQueues>());
        services.AddSingleton<IQueueConsumer>(sp => sp.GetRequiredService<SqliteRelayQueues>());
        services.AddSingleton<IAcceptedEventStore>(sp => sp.GetRequiredService<SqliteRelayQueues>());
        services.AddSingleton<IConditionalStore, SqliteConditionalStore>();
        services.AddSingleton(sp => new SqliteRetention(sp.GetRequiredService<SqliteDatabase>(), sp.GetRequiredService<TimeProvider>(),
            retention ?? SqliteRetention.DefaultRetention, sp.GetRequiredService<ILogger<SqliteRetention>>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<SqliteRetention>());
        return services;
    }
}
