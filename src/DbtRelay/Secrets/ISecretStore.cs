namespace DbtRelay.Secrets;

/// <summary>Where secrets referenced by name in relay.json come from: local configuration or Azure Key Vault.</summary>
public interface ISecretStore
{
    /// <summary>The secret's value, or null when the store has no secret of that name.</summary>
    ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Re-reads the secret from its source, bypassing any cache (after a signature mismatch or a 401).</summary>
    ValueTask<string?> RefreshAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// When a <see cref="RefreshAsync"/> of the secret would read its source again, if that is later than now (a store
    /// that limits re-reads); null when the next one will. A refresh before then returns the cached value.
    /// </summary>
    DateTimeOffset? NextForcedReadAt(string name) => null;

    /// <summary>Where a person should put the secret, for error messages (never the value).</summary>
    string Describe(string name);
}
