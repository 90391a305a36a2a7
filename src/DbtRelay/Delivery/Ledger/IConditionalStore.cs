namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// The few storage operations the ledger (and the delivery history beside it) needs, each atomic on its own: exactly what a blob container offers with
/// If-None-Match: * (create) and If-Match: etag (replace, delete).
/// </summary>
public interface IConditionalStore
{
    /// <summary>Creates the item unless it exists; its version tag, or null when it already existed.</summary>
    ValueTask<string?> TryCreateAsync(string key, BinaryData content, CancellationToken cancellationToken);

    /// <summary>The item and its version tag, or null when absent.</summary>
    ValueTask<(BinaryData Content, string Version)?> ReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Replaces the item only if it is still at <paramref name="version"/>; the new tag, or null when it changed.</summary>
    ValueTask<string?> TryReplaceAsync(string key, BinaryData content, string version, CancellationToken cancellationToken);

    /// <summary>Writes the item whatever its version.</summary>
    ValueTask WriteAsync(string key, BinaryData content, CancellationToken cancellationToken);

    /// <summary>Deletes the item only if it is still at <paramref name="version"/>.</summary>
    ValueTask TryDeleteAsync(string key, string version, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="max"/> keys starting with <paramref name="prefix"/>, in ordinal order, after <paramref name="startAfter"/>.</summary>
    ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix, string? startAfter, int max, CancellationToken cancellationToken);
}
