using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Routing;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Tests.Fakes;

/// <summary>
/// The library pipeline wired exactly as the hosts wire it (AddDbtRelay + in-memory queues), driven step by step on
/// a manual clock so retries are observed without sleeping.
/// </summary>
internal sealed class RelayHarness : IAsyncDisposable
{
    public const string WebhookSecret = "whsec-test-1";

    private readonly ServiceProvider _services;

    public RelayHarness(string relayJson, IDictionary<string, string?>? secrets = null, TimeProvider? time = null,
        IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        Time = time as ManualTimeProvider ?? new ManualTimeProvider();
        var all = settings is null ? new Dictionary<string, string?> { ["Secrets:dbt-webhook"] = WebhookSecret } : new Dictionary<string, string?>(settings);
        foreach (var (k, v) in secrets ?? new Dictionary<string, string?>()) all[$"Secrets:{k}"] = v;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        Build(collection, configuration, relayJson, time ?? Time, out _services);
    }

    private void Build(ServiceCollection services, IConfiguration configuration, string relayJson, TimeProvider time, out ServiceProvider provider)
    {
        services.AddSingleton(time);
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddDbtRelay(configuration, RelayConfigLoader.Load(relayJson));
        services.AddDbtRelayInMemory().AddDbtRelayInProcess();
        provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        // What the host's startup does before taking traffic.
        provider.GetRequiredService<DbtRelay.Webhooks.StoredWebhookSecrets>().LoadAsync(refresh: false, default).GetAwaiter().GetResult();
    }

    public ManualTimeProvider Time { get; }
    public LogCapture Logs { get; } = new();
    public IServiceProvider Services => _services;
    public InMemoryRelayQueues Queues => _services.GetRequiredService<InMemoryRelayQueues>();

    /// <summary>Signs and submits a body as dbt Cloud would; returns the intake decision (enqueued if accepted).</summary>
    public async Task<IntakeDecision> SendAsync(string body, string secret = WebhookSecret)
    {
        var bytes = DbtPayloads.Bytes(body);
        var decision = await _services.GetRequiredService<WebhookIntake>().DecideAsync(bytes, DbtPayloads.Sign(secret, bytes), default);
        if (decision is Accepted accepted) await Queues.StoreAsync(accepted, default);
        return decision;
    }

    /// <summary>Routes and delivers everything that is due now (not what waits for a retry delay).</summary>
    public async Task RunDueAsync()
    {
        var router = _services.GetRequiredService<EventRouter>();
        var executor = _services.GetRequiredService<DeliveryExecutor>();
        while (true)
        {
            if (Queues.Events.Reader.TryRead(out var e)) await router.RouteAsync(EventJson.DeserializeEnvelope(e), default);
            else if (Queues.Deliveries.Reader.TryRead(out var d)) await executor.ExecuteAsync(DeliveryJson.DeserializeDelivery(d), default);
            else return;
        }
    }

    public async ValueTask DisposeAsync() => await _services.DisposeAsync();
}
