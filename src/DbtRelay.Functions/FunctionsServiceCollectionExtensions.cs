using DbtRelay.AzureStorage;
using DbtRelay.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Functions;

public static class FunctionsServiceCollectionExtensions
{
    /// <summary>
    /// Everything the Functions app registers: the relay library over Azure Storage (the host's own storage account).
    /// An invalid relay.json or a missing AzureWebJobsStorage stops the host at startup with a message that says what
    /// to fix.
    /// </summary>
    public static IServiceCollection AddDbtRelayFunctions(this IServiceCollection services, IConfiguration configuration, string relayConfigPath)
    {
        var relayConfig = RelayConfigLoader.LoadFile(relayConfigPath);
        var storage = StorageClients.FromConfiguration(configuration) ?? throw new InvalidOperationException(
            $"{StorageClients.ConnectionSection} is not set: give it a connection string (UseDevelopmentStorage=true for Azurite) " +
            $"or {StorageClients.ConnectionSection}__accountName with an identity.");
        return services.AddDbtRelay(configuration, relayConfig).AddDbtRelayAzureStorage(storage);
    }
}
