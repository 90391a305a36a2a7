using DbtRelay.AzureStorage;
using DbtRelay.Config;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Functions;

public static class FunctionsServiceCollectionExtensions
{
    /// <summary>The app setting naming the relay configuration file, relative to the app folder (default relay.json).</summary>
    public const string RelayConfigFileSetting = "RelayConfigFile";

    public const string DefaultRelayConfigFile = "relay.json";

    /// <summary>
    /// Everything the Functions app registers: the relay library over Azure Storage (the host's own storage account),
    /// configured by the relay.json in <paramref name="appDirectory"/> (or the file <see cref="RelayConfigFileSetting"/>
    /// names). Every problem with that file and with the storage setting is reported together, as a
    /// <see cref="StartupProblemsException"/>, and nothing is registered.
    /// </summary>
    public static IServiceCollection AddDbtRelayFunctions(this IServiceCollection services, IConfiguration configuration, string appDirectory)
    {
        var problems = new List<string>();
        var path = Path.Combine(appDirectory, configuration[RelayConfigFileSetting] is { Length: > 0 } file ? file : DefaultRelayConfigFile);
        RelayConfig? relayConfig = null;
        try
        {
            relayConfig = RelayConfigLoader.LoadFile(path);
        }
        catch (RelayConfigException ex)
        {
            problems.AddRange(ex.Problems.Select(problem => $"{Path.GetFileName(path)} {problem}"));
        }
        StorageClients? storage = null;
        try
        {
            storage = StorageClients.FromConfiguration(configuration);
            if (storage is null)
            {
                problems.Add($"{StorageClients.ConnectionSection} is not set: give it a connection string (UseDevelopmentStorage=true for Azurite) " +
                    $"or {StorageClients.ConnectionSection}__accountName with an identity.");
            }
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or UriFormatException)
        {
            problems.Add($"{StorageClients.ConnectionSection} is not a storage connection string or account: {ex.Message}");
        }
        if (problems.Count > 0 || relayConfig is null || storage is null) throw new StartupProblemsException(path, problems);
        return services.AddDbtRelay(configuration, relayConfig).AddDbtRelayAzureStorage(storage);
    }
}
