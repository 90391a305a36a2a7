using Azure;
using Azure.Security.KeyVault.Secrets;

namespace DbtRelay.Secrets;

/// <summary>Secrets from Azure Key Vault (<c>GET /secrets/{name}</c>, latest version) with the app's identity.</summary>
public sealed class KeyVaultSecretSource(SecretClient client) : ISecretSource
{
    public async Task<string?> FetchAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await client.GetSecretAsync(name, cancellationToken: cancellationToken).ConfigureAwait(false);
            return secret.Value.Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException ex)
        {
            // The SDK's message can quote the request; keep only what identifies the failure.
            throw new SecretSourceException($"Key Vault answered {ex.Status} ({ex.ErrorCode}) for secret {name}");
        }
    }

    public string Describe(string name) => $"Key Vault secret {name} in {client.VaultUri}";
}
