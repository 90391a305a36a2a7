using Azure;
using Azure.Identity;
using DbtRelay.Delivery;
using Microsoft.Extensions.Hosting;

namespace DbtRelay.AzureStorage;

/// <summary>
/// Creates the queues and the ledger container when missing (Azurite; in Azure, Bicep already did), before the first
/// trigger or request. When it cannot, startup fails with <see cref="StorageUnavailableException"/>: an account the
/// relay cannot write to would take webhooks it can never deliver, and a silent start only shows later, as a queue
/// that never drains.
/// </summary>
public sealed class StorageBootstrap(StorageClients storage) : IHostedService
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(30);
    private volatile bool _done;

    /// <summary>Idempotent: a host may run it before it starts (to report a failure in its own words) and again as a hosted service.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_done) return;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Budget);
        try
        {
            foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
            {
                await storage.Queue(name).CreateIfNotExistsAsync(cancellationToken: limit.Token).ConfigureAwait(false);
            }
            await storage.Ledger.CreateIfNotExistsAsync(cancellationToken: limit.Token).ConfigureAwait(false);
            _done = true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && Reason(ex) is { } reason)
        {
            throw new StorageUnavailableException(
                $"Cannot create the relay's queues and ledger container on {DbtRelay.Telemetry.UrlOrigin.Of(storage.Queues.Uri)}: {reason}", ex);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The storage service's own first line (Azurite's says which option fixes an API version it refuses).</summary>
    private static string? Reason(Exception ex) => ex switch
    {
        RequestFailedException { Status: 0 } unreachable => $"it cannot be reached ({FirstLine(unreachable.Message)})",
        RequestFailedException failed => $"{failed.Status} {failed.ErrorCode}: {FirstLine(failed.Message)}",
        AuthenticationFailedException or CredentialUnavailableException => $"the identity cannot sign in: {FirstLine(ex.Message)}",
        // The SDK's retries end in an AggregateException of each try's failure: the last one says why.
        AggregateException { InnerExceptions.Count: > 0 } tries => Reason(tries.InnerExceptions[^1]),
        HttpRequestException => $"it cannot be reached ({FirstLine(ex.Message)})",
        OperationCanceledException => $"no answer within {Budget.TotalSeconds:F0} s",
        _ => null,
    };

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
