using DbtRelay.Delivery;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.AzureStorage;

/// <summary>
/// Creates the queues and the ledger container when missing (Azurite; in Azure, Bicep already did). Registered to
/// start before the Functions worker so the first trigger finds them. Never stops the app: provisioned resources
/// need no creation, and a real absence (or a credential that cannot sign in) surfaces on first use with its own
/// error, where the host's retries and poison queue keep the message.
/// </summary>
public sealed partial class StorageBootstrap(StorageClients storage, ILogger<StorageBootstrap> logger) : IHostedService
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Budget);
        try
        {
            foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
            {
                await storage.Queue(name).CreateIfNotExistsAsync(cancellationToken: limit.Token).ConfigureAwait(false);
            }
            await storage.Ledger.CreateIfNotExistsAsync(cancellationToken: limit.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            LogCannotCreate(logger, ex.GetType().Name, ex.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(7001, LogLevel.Warning, "Could not ensure the relay's queues and ledger container exist ({Error}: {Detail}); continuing.")]
    private static partial void LogCannotCreate(ILogger logger, string error, string detail);
}
