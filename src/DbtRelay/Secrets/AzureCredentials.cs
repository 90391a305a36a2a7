using Azure.Core;
using Azure.Identity;

namespace DbtRelay.Secrets;

/// <summary>How the app proves who it is to Azure (Key Vault, Storage): its managed identity.</summary>
public static class AzureCredentials
{
    /// <summary>
    /// A user-assigned identity when its client id is configured (what the Bicep deploys), otherwise
    /// DefaultAzureCredential (system identity in Azure, az login / VS Code on a laptop).
    /// </summary>
    public static TokenCredential Create(string? managedIdentityClientId) => string.IsNullOrWhiteSpace(managedIdentityClientId)
        ? new DefaultAzureCredential()
        : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(managedIdentityClientId));
}
