using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DbtRelay;

/// <summary>
/// Fails startup, naming what to add, when the host registered no store: the core has no default on purpose, since a
/// silent in-memory ledger would lose exactly-once across instances.
/// </summary>
internal sealed class RelayStoreCheck(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var missing = new[] { typeof(IRelayQueues), typeof(IConditionalStore), typeof(IDeadLetters) }
            .Where(type => services.GetService(type) is null && !(type == typeof(IConditionalStore) && services.GetService<IDeliveryLedger>() is not null))
            .Select(type => type.Name)
            .ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The relay has no store ({string.Join(", ", missing)} not registered): add one of AddDbtRelaySqlite, " +
                "AddDbtRelayAzureStorage or AddDbtRelayInMemory after AddDbtRelay.");
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
