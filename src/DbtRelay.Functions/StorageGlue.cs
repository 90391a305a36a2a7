using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using DbtRelay.Delivery;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Functions;

/// <summary>
/// Queue and blob clients for the host storage account, configured like the Functions host itself: a connection
/// string in AzureWebJobsStorage (Azurite), or identity-based AzureWebJobsStorage__accountName / __queueServiceUri /
/// __blobServiceUri with __clientId for a user-assigned identity.
/// </summary>
public sealed class StorageClients(QueueServiceClient queues, BlobContainerClient ledger)
{
    public const string LedgerContainer = "dbt-relay-ledger";

    public BlobContainerClient Ledger { get; } = ledger;

    public QueueClient Queue(string name) => queues.GetQueueClient(name);

    public static StorageClients FromConfiguration(IConfiguration configuration)
    {
        // host.json sets messageEncoding "none": every writer of our queues must agree, or triggers misread messages.
        var queueOptions = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.None };
        var section = configuration.GetSection("AzureWebJobsStorage");
        if (!string.IsNullOrEmpty(section.Value))
        {
            return new StorageClients(new QueueServiceClient(section.Value, queueOptions),
                new BlobServiceClient(section.Value).GetBlobContainerClient(LedgerContainer));
        }
        var account = section["accountName"];
        var queueUri = section["queueServiceUri"] ?? $"https://{account}.queue.core.windows.net";
        var blobUri = section["blobServiceUri"] ?? $"https://{account}.blob.core.windows.net";
        var credential = AzureCredentials.Create(section["clientId"]);
        return new StorageClients(new QueueServiceClient(new Uri(queueUri), credential, queueOptions),
            new BlobServiceClient(new Uri(blobUri), credential).GetBlobContainerClient(LedgerContainer));
    }
}

/// <summary>Creates the queues and the ledger container when missing (Azurite; in Azure, Bicep already did).</summary>
public sealed partial class StorageBootstrap(StorageClients storage, ILogger<StorageBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
            {
                await storage.Queue(name).CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            }
            await storage.Ledger.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex)
        {
            // Provisioned resources need no creation; a real absence surfaces on first use with its own error.
            LogCannotCreate(logger, ex.Status, ex.ErrorCode);
        }
    }

    [LoggerMessage(7001, LogLevel.Warning, "Could not ensure the relay's queues and ledger container exist ({Status} {Code}); continuing.")]
    private static partial void LogCannotCreate(ILogger logger, int status, string? code);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>The library's queues as Azure Storage queues: a delay is the message's initial visibility timeout.</summary>
public sealed class StorageRelayQueues(StorageClients storage) : IRelayQueues
{
    // Messages never expire: a delivery waiting for its retry must not vanish after the default 7 days.
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    public async ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken) =>
        await Send(QueueNames.Events, RelayJson.Serialize(envelope), delay, cancellationToken);

    public async ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        await Send(QueueNames.Deliveries, RelayJson.Serialize(delivery), delay, cancellationToken);

    public async ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken) =>
        await Send(QueueNames.DeadLetters, RelayJson.Serialize(deadLetter), TimeSpan.Zero, cancellationToken);

    private Task Send(string queue, byte[] message, TimeSpan delay, CancellationToken cancellationToken) =>
        storage.Queue(queue).SendMessageAsync(System.Text.Encoding.UTF8.GetString(message),
            delay > TimeSpan.Zero ? delay : null, NeverExpire, cancellationToken);
}

/// <summary>The ledger's conditional store as blobs: If-None-Match: * to create, If-Match: etag to replace or delete.</summary>
public sealed class BlobConditionalStore(StorageClients storage) : IConditionalStore
{
    private BlobClient Blob(string key) => storage.Ledger.GetBlobClient(key);

    public async ValueTask<string?> TryCreateAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        try
        {
            var created = await Blob(key).UploadAsync(content, new BlobUploadOptions { Conditions = new() { IfNoneMatch = ETag.All } }, cancellationToken);
            return created.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return null;
        }
    }

    public async ValueTask<(BinaryData Content, string Version)?> ReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var result = (await Blob(key).DownloadContentAsync(cancellationToken)).Value;
            return (result.Content, result.Details.ETag.ToString());
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
    }

    public async ValueTask<string?> TryReplaceAsync(string key, BinaryData content, string version, CancellationToken cancellationToken)
    {
        try
        {
            var replaced = await Blob(key).UploadAsync(content, new BlobUploadOptions { Conditions = new() { IfMatch = new ETag(version) } }, cancellationToken);
            return replaced.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            return null;
        }
    }

    public async ValueTask WriteAsync(string key, BinaryData content, CancellationToken cancellationToken) =>
        await Blob(key).UploadAsync(content, overwrite: true, cancellationToken);

    public async ValueTask TryDeleteAsync(string key, string version, CancellationToken cancellationToken)
    {
        try
        {
            await Blob(key).DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = new ETag(version) }, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // Someone else holds it now: theirs to release.
        }
    }
}
