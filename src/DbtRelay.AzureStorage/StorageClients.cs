using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DbtRelay.Secrets;
using Microsoft.Extensions.Configuration;

namespace DbtRelay.AzureStorage;

/// <summary>
/// Queue and blob clients for the host storage account, configured like the Functions host itself: a connection
/// string in AzureWebJobsStorage (Azurite), or identity-based AzureWebJobsStorage__accountName / __queueServiceUri /
/// __blobServiceUri with __clientId for a user-assigned identity.
/// </summary>
public sealed class StorageClients(QueueServiceClient queues, BlobContainerClient ledger)
{
    public const string LedgerContainer = "dbt-relay-ledger";
    public const string ConnectionSection = "AzureWebJobsStorage";

    /// <summary>
    /// host.json sets the queue extension's messageEncoding to "none": every writer and reader of the relay's queues
    /// must agree, or the triggers misread each other's messages.
    /// </summary>
    public static QueueClientOptions QueueOptions() => new() { MessageEncoding = QueueMessageEncoding.None };

    public BlobContainerClient Ledger { get; } = ledger;

    public QueueServiceClient Queues { get; } = queues;

    public QueueClient Queue(string name) => Queues.GetQueueClient(name);

    public static StorageClients FromConnectionString(string connectionString, string ledgerContainer = LedgerContainer) =>
        new(new QueueServiceClient(connectionString, QueueOptions()),
            new BlobServiceClient(connectionString).GetBlobContainerClient(ledgerContainer));

    /// <summary>
    /// An account by URL (<c>https://NAME.queue.core.windows.net</c>, <c>.blob.</c> or <c>https://NAME.core.windows.net</c>
    /// style endpoints) reached with <paramref name="credential"/>, or a connection string.
    /// </summary>
    public static StorageClients FromConnectionStringOrUrl(string value, Azure.Core.TokenCredential? credential = null)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var url) || url.Scheme is not ("https" or "http")) return FromConnectionString(value);
        var labels = url.Host.Split('.', 3);
        if (labels.Length < 3 || labels[1] is not ("queue" or "blob")) throw new ArgumentException($"'{value}' is not a storage account URL such as https://NAME.queue.core.windows.net.", nameof(value));
        var (account, suffix) = (labels[0], labels[2]);
        credential ??= AzureCredentials.Create(null);
        return new StorageClients(new QueueServiceClient(new Uri($"https://{account}.queue.{suffix}"), credential, QueueOptions()),
            new BlobServiceClient(new Uri($"https://{account}.blob.{suffix}"), credential).GetBlobContainerClient(LedgerContainer));
    }

    /// <summary>Null when the section names no connection string and no account.</summary>
    public static StorageClients? FromConfiguration(IConfiguration configuration)
    {
        var section = configuration.GetSection(ConnectionSection);
        if (!string.IsNullOrEmpty(section.Value)) return FromConnectionString(section.Value);
        var account = section["accountName"];
        if (string.IsNullOrEmpty(account) && string.IsNullOrEmpty(section["queueServiceUri"])) return null;
        var queueUri = section["queueServiceUri"] ?? $"https://{account}.queue.core.windows.net";
        var blobUri = section["blobServiceUri"] ?? $"https://{account}.blob.core.windows.net";
        var credential = AzureCredentials.Create(section["clientId"]);
        return new StorageClients(new QueueServiceClient(new Uri(queueUri), credential, QueueOptions()),
            new BlobServiceClient(new Uri(blobUri), credential).GetBlobContainerClient(LedgerContainer));
    }
}
