using System.Net;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using DbtRelay.History;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Logs;

namespace DbtRelay.Functions.Tests;

/// <summary>
/// The function classes composed as Program.cs composes them, run with real queue messages on Azurite: what the
/// webhook function emits is routed by RouteDbtEvent into one delivery per target, DeliverSync calls the targets,
/// retries come back after their delay, and dead letters are listed and replayed through the ops functions.
/// </summary>
[Collection(AzuriteTests.Name)]
public sealed class PipelineOnAzuriteTests(Azurite azurite) : IAsyncLifetime
{
    private const string Secret = "functions-e2e-secret";
    private readonly FakeHttpEndpoint _crm = new();
    private readonly FakeHttpEndpoint _alerts = new();
    private readonly string _configPath = Path.Combine(Path.GetTempPath(), $"relay-fn-{Guid.NewGuid():N}.json");
    private ServiceProvider _services = null!;
    private StorageClients _storage = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_configPath, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": {
                "crm": { "type": "http", "method": "POST", "url": "{{{_crm.BaseUrl}}}sync/{{eventId}}" },
                "alerts": { "type": "http", "method": "POST", "url": "{{{_alerts.BaseUrl}}}notify/{{eventId}}" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["crm", "alerts"] } ] }
            """);
    }

    private async Task StartAsync(Action<IServiceCollection>? more = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Secrets:dbt-webhook"] = Secret,
            ["Delivery:InitialDelay"] = "00:00:01",
            ["Delivery:Jitter"] = "0",
            ["Delivery:MaxAttempts"] = "3",
            [FunctionsServiceCollectionExtensions.RelayConfigFileSetting] = Path.GetFileName(_configPath),
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbtRelayFunctions(configuration, Path.GetDirectoryName(_configPath)!);
        more?.Invoke(services);
        services.AddSingleton<ReceiveDbtWebhook>().AddSingleton<PipelineFunctions>().AddSingleton<DeadLetterFunctions>().AddSingleton<EventFunctions>();
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _storage = _services.GetRequiredService<StorageClients>();
        foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters }) await _storage.Queue(name).DeleteIfExistsAsync();
        // What the worker host does before the first trigger: the relay's hosted services, bootstrap first.
        foreach (var hosted in _services.GetServices<IHostedService>()) await hosted.StartAsync(default);
    }

    /// <summary>POSTs a signed event to the intake function, which stores it on dbt-events itself (or answers 503).</summary>
    private async Task<Microsoft.Azure.Functions.Worker.Http.HttpResponseData> PostAsync(string eventId)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId));
        return await _services.GetRequiredService<ReceiveDbtWebhook>().RunAsync(FunctionRequests.Create("POST", body, DbtPayloads.Sign(Secret, body)), default);
    }

    /// <summary>Runs every visible message of a queue through a queue-triggered function, as the host would.</summary>
    private async Task<int> TriggerAsync(string queueName, Func<string, Task> function)
    {
        var queue = _storage.Queue(queueName);
        var ran = 0;
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(1))).Value is { Length: > 0 } batch)
        {
            foreach (var message in batch)
            {
                await function(message.Body.ToString());
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                ran++;
            }
        }
        return ran;
    }

    private Task<int> RouteAllAsync() =>
        TriggerAsync(QueueNames.Events, m => _services.GetRequiredService<PipelineFunctions>().RouteAsync(m, default));

    private Task<int> DeliverAllAsync() =>
        TriggerAsync(QueueNames.Deliveries, m => _services.GetRequiredService<PipelineFunctions>().DeliverAsync(m, default));

    [SkippableFact]
    public async Task An_accepted_webhook_becomes_one_call_per_target_even_when_dbt_sends_it_twice()
    {
        await StartAsync();

        var first = await PostAsync("wev_fn_e2e");
        var again = await PostAsync("wev_fn_e2e");
        var routed = await RouteAllAsync();
        var delivered = await DeliverAllAsync();

        Assert.Equal((HttpStatusCode.Accepted, HttpStatusCode.Accepted), (first.StatusCode, again.StatusCode));
        Assert.Equal((2, 2), (routed, delivered));
        Assert.Equal("/sync/wev_fn_e2e", Assert.Single(_crm.Received).PathAndQuery);
        Assert.Equal("/notify/wev_fn_e2e", Assert.Single(_alerts.Received).PathAndQuery);
    }

    [SkippableFact]
    public async Task A_failed_call_is_retried_from_the_queue_after_its_delay()
    {
        await StartAsync();
        _crm.Script(new ScriptedAnswer(503));

        await PostAsync("wev_fn_retry");
        await RouteAllAsync();
        await DeliverAllAsync();
        var immediately = (await _storage.Queue(QueueNames.Deliveries).PeekMessagesAsync(32)).Value.Length;
        await Eventually.True(async () => (await _storage.Queue(QueueNames.Deliveries).PeekMessagesAsync(32)).Value.Length == 1);
        await DeliverAllAsync();

        Assert.Equal(0, immediately);
        Assert.Equal(2, _crm.Received.Count);
        Assert.Single(_alerts.Received);
    }

    [SkippableFact]
    public async Task A_dead_letter_is_listed_and_replayed_through_the_ops_functions()
    {
        await StartAsync();
        _crm.Script(new ScriptedAnswer(400));
        var ops = _services.GetRequiredService<DeadLetterFunctions>();

        await PostAsync("wev_fn_dead");
        await RouteAllAsync();
        await DeliverAllAsync();
        var listed = FunctionRequests.BodyText(await ops.ListAsync(Get("ops/dead-letters"), default));
        var unknown = await ops.ReplayOneAsync(Post("ops/dead-letters/wev_other/crm/replay"), "wev_other", "crm", default);
        var replayed = await ops.ReplayOneAsync(Post("ops/dead-letters/wev_fn_dead/crm/replay"), "wev_fn_dead", "crm", default);
        await DeliverAllAsync();

        Assert.Contains("\"eventId\":\"wev_fn_dead\"", listed, StringComparison.Ordinal);
        Assert.Contains("\"target\":\"crm\"", listed, StringComparison.Ordinal);
        Assert.Contains("400", listed, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("""{"replayed":1}""", FunctionRequests.BodyText(replayed));
        Assert.Equal(2, _crm.Received.Count);
        Assert.Equal("[]", FunctionRequests.BodyText(await ops.ListAsync(Get("ops/dead-letters"), default)));
    }

    [SkippableFact]
    public async Task The_events_functions_show_the_timeline_and_redeliver_one_target()
    {
        await StartAsync();
        _alerts.Script(new ScriptedAnswer(400));
        var events = _services.GetRequiredService<EventFunctions>();

        await PostAsync("wev_fn_events");
        await RouteAllAsync();
        await DeliverAllAsync();
        var timeline = HistoryJson.DeserializeTimeline(System.Text.Encoding.UTF8.GetBytes(
            FunctionRequests.BodyText(await events.GetAsync(Get("events/wev_fn_events"), "wev_fn_events", default))));
        var listed = FunctionRequests.BodyText(await events.ListAsync(Get("events?status=dead-lettered&limit=200"), default));
        var redeliver = await events.RedeliverAsync(Post("events/wev_fn_events/redeliver?target=crm"), "wev_fn_events", default);
        await DeliverAllAsync();
        var missing = await events.GetAsync(Get("events/wev_nowhere"), "wev_nowhere", default);

        Assert.Equal(EventStatus.DeadLettered, timeline.Status);
        Assert.Equal((EventStatus.Delivered, 200), (timeline.Targets.Single(t => t.Target == "crm").State, timeline.Targets.Single(t => t.Target == "crm").Attempts.Single().HttpStatus));
        Assert.Equal((EventStatus.DeadLettered, 400), (timeline.Targets.Single(t => t.Target == "alerts").State, timeline.Targets.Single(t => t.Target == "alerts").Attempts.Single().HttpStatus));
        Assert.Contains("\"eventId\":\"wev_fn_events\"", listed, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, redeliver.StatusCode);
        Assert.Equal(2, _crm.Received.Count);
        Assert.Single(_alerts.Received);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [SkippableFact]
    public async Task Worker_log_records_carry_the_event_and_target_as_attributes_for_application_insights()
    {
        var logs = new List<LogRecord>();
        // As Program.cs registers it, with an in-memory exporter where Application Insights would be.
        await StartAsync(services => services.AddDbtRelayTelemetry(new ConfigurationBuilder().Build(), t => t.WithLogging(l => l.AddInMemoryExporter(logs))));

        await PostAsync("wev_fn_otel");
        await RouteAllAsync();
        await DeliverAllAsync();

        var delivered = logs.Where(l => l.CategoryName == "DbtRelay.Delivery.DeliveryExecutor").Select(Attributes)
            .Single(a => a.GetValueOrDefault("EventId") == "wev_fn_otel" && a.GetValueOrDefault("Target") == "crm");
        Assert.Equal(("123", "70000001", "1"), (delivered["JobId"], delivered["RunId"], delivered["Attempt"]));
        // A target's URL may hold a secret (a Slack webhook path): no record, the HTTP client's included, carries it.
        Assert.DoesNotContain(logs, l => (l.Body ?? "").Contains("/sync/wev_fn_otel", StringComparison.Ordinal)
            || Attributes(l).Values.Any(v => v?.Contains("/sync/wev_fn_otel", StringComparison.Ordinal) == true));
        Assert.DoesNotContain(logs, l => l.CategoryName!.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal));
    }

    /// <summary>A record's attributes and scope values: what the Azure Monitor exporter turns into custom dimensions.</summary>
    private static Dictionary<string, string?> Attributes(LogRecord record)
    {
        var all = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in record.Attributes ?? []) all[key] = value?.ToString();
        record.ForEachScope((scope, into) =>
        {
            foreach (var (key, value) in scope) into[key] = value?.ToString();
        }, all);
        return all;
    }

    private static Microsoft.Azure.Functions.Worker.Http.HttpRequestData Get(string route) =>
        FunctionRequests.Create("GET", [], url: $"https://relay.example.net/api/{route}");

    private static Microsoft.Azure.Functions.Worker.Http.HttpRequestData Post(string route) =>
        FunctionRequests.Create("POST", [], url: $"https://relay.example.net/api/{route}");

    public async Task DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        await _crm.DisposeAsync();
        await _alerts.DisposeAsync();
        File.Delete(_configPath);
    }
}
