namespace DbtRelay.Secrets;

/// <summary>Where a cached secret really comes from (Key Vault). Throws when the source fails; null when absent.</summary>
public interface ISecretSource
{
    Task<string?> FetchAsync(string name, CancellationToken cancellationToken);

    string Describe(string name);
}
