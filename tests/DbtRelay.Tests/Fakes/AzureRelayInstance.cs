using Azure.Storage.Queues;
using DbtRelay.AzureStorage;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Tests.Fakes;

/// <summary>
/// One relay instance wired as the Functions app wires it (AddDbtRelay + AddDbtRelayAzureStorage) on Azurite. Several
/// instances on the same storage behave like several Functions instances of one app.
/// </summary>
internal sealed class AzureRelayInstance : IAsyncDisposable
{
    public const string WebhookSecret = "whsec-azure-1";

    private readonly ServiceProvider _services;

    public AzureRelayInstance(StorageClients storage, string relayJson, IDictionary<string, string?>? settings = null)
    {
        var all = new Dictionary<string, string?> { ["Secrets:dbt-webhook"] = WebhookSecret };
        foreach (var (k, v) in settings ?? new Dictionary<string, string?>()) all[k] = v;
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddDbtRelay(new ConfigurationBuilder().AddInMemoryCollection(all).Build(), RelayConfigLoader.Load(relayJson));
        services.AddDbtRelayAzureStorage(storage);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _services.GetRequiredService<StoredWebhookSecrets>().LoadAsync(refresh: false, default).GetAwaiter().GetResult();
    }

    public LogCapture Logs { get; } = new();
    public IServiceProvider Services => _services;
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>Azurite with the relay's queues emptied and a ledger container of this test's own.</summary>
    public static async Task<StorageClients> FreshStorageAsync(string connectionString)
    {
        var storage = StorageClients.FromConnectionString(connectionString, $"ledger-{Guid.NewGuid():N}");
        foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
        {
            var queue = storage.Queue(name);
            await queue.CreateIfNotExistsAsync();
            await queue.ClearMessagesAsync();
        }
        await storage.Ledger.CreateIfNotExistsAsync();
        return storage;
    }

    /// <summary>Receives every message visible now (and hides it for a minute, as a trigger would).</summary>
    public static async Task<List<string>> ReceiveAllAsync(QueueClient queue)
    {
        var all = new List<string>();
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                all.Add(message.Body.ToString());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
        return all;
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}
