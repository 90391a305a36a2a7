using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using DbtRelay.Delivery.Ledger;

namespace DbtRelay.AzureStorage;

/// <summary>
/// The ledger's conditional store as blobs: If-None-Match: * to create, If-Match: etag to replace or delete. A
/// missing container is created on first use, so a delivery that races the startup bootstrap still lands.
/// </summary>
public sealed class BlobConditionalStore(StorageClients storage) : IConditionalStore
{
    private BlobClient Blob(string key) => storage.Ledger.GetBlobClient(key);

    public async ValueTask<string?> TryCreateAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        try
        {
            var options = new BlobUploadOptions { Conditions = new() { IfNoneMatch = ETag.All } };
            var created = await WithContainerAsync(() => Blob(key).UploadAsync(content, options, cancellationToken), cancellationToken).ConfigureAwait(false);
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
            var result = (await Blob(key).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
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
            var options = new BlobUploadOptions { Conditions = new() { IfMatch = new ETag(version) } };
            var replaced = await Blob(key).UploadAsync(content, options, cancellationToken).ConfigureAwait(false);
            return replaced.Value.ETag.ToString();
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 409 or 412)
        {
            return null;
        }
    }

    public async ValueTask WriteAsync(string key, BinaryData content, CancellationToken cancellationToken) =>
        await WithContainerAsync(() => Blob(key).UploadAsync(content, overwrite: true, cancellationToken), cancellationToken).ConfigureAwait(false);

    public async ValueTask TryDeleteAsync(string key, string version, CancellationToken cancellationToken)
    {
        try
        {
            await Blob(key).DeleteIfExistsAsync(conditions: new BlobRequestConditions { IfMatch = new ETag(version) }, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            // Someone else holds it now: theirs to release.
        }
    }

    /// <summary>
    /// Blob listing is in name order; the cursor is skipped on the client, which keeps to what every storage
    /// version (and Azurite) supports. The history index is bounded by the container's 30-day lifecycle rule.
    /// </summary>
    public async ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix, string? startAfter, int max, CancellationToken cancellationToken)
    {
        var keys = new List<string>(max);
        try
        {
            await foreach (var blob in storage.Ledger.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, cancellationToken).ConfigureAwait(false))
            {
                if (startAfter is not null && string.CompareOrdinal(blob.Name, startAfter) <= 0) continue;
                keys.Add(blob.Name);
                if (keys.Count == max) break;
            }
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // Nothing was ever written.
        }
        return keys;
    }

    private async Task<T> WithContainerAsync<T>(Func<Task<T>> write, CancellationToken cancellationToken)
    {
        try
        {
            return await write().ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            await storage.Ledger.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return await write().ConfigureAwait(false);
        }
    }
}
