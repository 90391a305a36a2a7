using System.Net;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using DbtRelay.History;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>
/// One Functions host running the app, with an Azurite of its own and fakes of every downstream API, shared by the
/// tests of <see cref="HostTests"/>. Each test sends events of its own dbt job id, and relay.json routes each job id
/// to targets no other test uses, so the tests can count calls exactly while sharing one host (a host takes seconds
/// to start). Retries and the host's own redelivery of a failed message are shortened to a second. Only the
/// <c>-follow</c> targets follow their runs (every second), so the others' queues settle as soon as they deliver.
/// </summary>
public sealed class HostedRelay : IAsyncLifetime
{
    public const string WebhookSecret = "host-webhook-secret";

    internal FakeRudderStack RudderStack { get; } = new("rs-token", "conn-all", "conn-dupes", "conn-follow");
    internal FakeElementary Elementary { get; } = new("elementary-secret");
    internal FakeDbtCloud Dbt { get; } = new("dbt-token", 1);

    /// <summary>A second dbt Cloud account, rate-limited on purpose: its cooldown must not hold back the other tests' account.</summary>
    internal FakeDbtCloud LimitedDbt { get; } = new("dbt-token", 2);
    internal FakeHttpEndpoint Http { get; } = new();
    internal FakeHttpEndpoint Flaky { get; } = new();
    internal FakeHttpEndpoint Refusing { get; } = new(status: 400);
    internal FakeApplicationInsights ApplicationInsights { get; } = new();
    internal FakeHightouch Hightouch { get; } = new("ht-key", 1127166);
    internal FakeCensus Census { get; } = new("census-token", 52);
    internal FakePowerBi PowerBi { get; } = new(PowerBiGroup, PowerBiDataset);

    /// <summary>The identity endpoint the platform gives the app (IDENTITY_ENDPOINT / IDENTITY_HEADER).</summary>
    internal FakeManagedIdentity Identity { get; } = new("00000000-0000-0000-0000-0000000000a1");

    public const string PowerBiGroup = "f089354e-8366-4e18-aea3-4cb4a3a50b48";
    public const string PowerBiDataset = "cfafbeb1-8037-4d0c-896e-a46fb27ff229";

    public Azurite Storage { get; } = Azurite.Own();

    internal FunctionsHost Host { get; private set; } = null!;

    internal StorageClients Queues { get; private set; } = null!;

    public static IReadOnlyDictionary<string, string> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string>
        {
            ["Secrets__dbt-webhook-host"] = WebhookSecret,
            ["Secrets__rudderstack-token"] = "rs-token",
            ["Secrets__elementary-secret"] = "elementary-secret",
            ["Secrets__dbt-api-token"] = "dbt-token",
            ["Secrets__hightouch-api-key"] = "ht-key",
            ["Secrets__census-api-token"] = "census-token",
            ["Delivery__InitialDelay"] = "00:00:01",
            ["Delivery__Jitter"] = "0",
            ["Delivery__MaxAttempts"] = "3",
            // host.json waits 30 s before a failed message is visible again; the poison test needs five failures.
            ["AzureFunctionsJobHost__extensions__queues__visibilityTimeout"] = "00:00:01",
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    public async Task InitializeAsync()
    {
        if (!FunctionsHost.IsInstalled) return; // each test says why it is skipped
        await Storage.InitializeAsync();
        Queues = StorageClients.FromConnectionString(Storage.ConnectionString);
        Host = await FunctionsHost.StartAsync(RelayJson(), Storage.ConnectionString,
            Settings([("APPLICATIONINSIGHTS_CONNECTION_STRING", ApplicationInsights.ConnectionString), .. Identity.Environment.Select(e => (e.Key, e.Value))]));
    }

    private string RelayJson()
    {
        string Http(string name, FakeHttpEndpoint fake, string path) =>
            $$$"""  "{{{name}}}": { "type": "http", "method": "POST", "url": "{{{fake.BaseUrl}}}{{{path}}}/{{eventId}}", "body": { "eventId": "{{eventId}}" } }""";
        string Rudder(string name, string connection, string follow = "false") =>
            $$$"""  "{{{name}}}": { "type": "rudderstack-retl", "connectionId": "{{{connection}}}", "token": "rudderstack-token", "baseUrl": "{{{RudderStack.ApiBase}}}", "follow": {{{follow}}} }""";
        string Elem(string name, string path) =>
            $$$"""  "{{{name}}}": { "type": "elementary", "url": "{{{Elementary.BaseUrl}}}webhooks/{{{path}}}", "secret": "elementary-secret" }""";
        string Job(string name, int job, string follow = "false") =>
            $$$"""  "{{{name}}}": { "type": "dbt-cloud-job", "accessUrl": "{{{Dbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 1, "jobId": {{{job}}}, "token": "dbt-api-token", "follow": {{{follow}}} }""";
        const string followed = """{ "every": "1s", "maxWait": "5m" }, "onFailure": ["notify"]""";
        return $$$"""
            { "webhooks": [ { "name": "host", "secret": "dbt-webhook-host" } ],
              "targets": {
              {{{Rudder("crm-all", "conn-all")}}}, {{{Elem("elementary-all", "all")}}}, {{{Job("marts-all", 501)}}}, {{{Http("http-all", this.Http, "all")}}},
              {{{Rudder("crm-dupes", "conn-dupes")}}}, {{{Elem("elementary-dupes", "dupes")}}}, {{{Job("marts-dupes", 502)}}}, {{{Http("http-dupes", this.Http, "dupes")}}},
              {{{Http("flaky", Flaky, "flaky")}}}, {{{Http("refusing", Refusing, "refuses")}}}, {{{Http("ops", this.Http, "ops")}}},
              {{{Http("neighbour", this.Http, "neighbour")}}}, {{{Http("fields", this.Http, "fields")}}}, {{{Http("paused-target", this.Http, "paused")}}},
              {{{Rudder("crm-follow", "conn-follow", followed)}}}, {{{Job("marts-follow", 503, followed)}}}, "notify": { "type": "http", "url": "{{{this.Http.BaseUrl}}}notify/{{eventId}}", "body": { "text": "{{downstream.target}} {{downstream.state}}: {{downstream.error}}" } },
              "hightouch-follow": { "type": "hightouch", "syncId": 1127166, "token": "hightouch-api-key", "baseUrl": "{{{Hightouch.BaseUrl}}}", "follow": {{{followed}}} },
              "census-follow": { "type": "census", "syncId": 52, "token": "census-api-token", "baseUrl": "{{{Census.BaseUrl}}}", "follow": {{{followed}}} },
              "limited-a": { "type": "dbt-cloud-job", "accessUrl": "{{{LimitedDbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 2, "jobId": 21, "token": "dbt-api-token", "follow": false },
              "limited-b": { "type": "dbt-cloud-job", "accessUrl": "{{{LimitedDbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 2, "jobId": 22, "token": "dbt-api-token", "follow": false },
              "coalesced": { "type": "http", "url": "{{{this.Http.BaseUrl}}}coalesced/{{eventId}}", "body": { "eventId": "{{eventId}}" }, "coalesce": "8s" },
              "model-follow": { "type": "powerbi-refresh", "groupId": "{{{PowerBiGroup}}}", "datasetId": "{{{PowerBiDataset}}}", "baseUrl": "{{{PowerBi.BaseUrl}}}", "follow": {{{followed}}} }
              },
              "routes": [
                { "name": "all-types", "when": { "jobIds": ["100"] }, "targets": ["crm-all", "elementary-all", "marts-all", "http-all"] },
                { "name": "dupes-a", "when": { "jobIds": ["200"] }, "targets": ["crm-dupes", "elementary-dupes", "marts-dupes", "http-dupes"] },
                { "name": "dupes-b", "when": { "jobIds": ["200"] }, "targets": ["crm-dupes", "http-dupes"] },
                { "name": "flaky", "when": { "jobIds": ["300"] }, "targets": ["flaky"] },
                { "name": "refused", "when": { "jobIds": ["400"] }, "targets": ["refusing"] },
                { "name": "ops", "when": { "jobIds": ["500"] }, "targets": ["ops"] },
                { "name": "neighbour", "when": { "jobIds": ["600"] }, "targets": ["neighbour"] },
                { "name": "followed", "when": { "jobIds": ["710"] }, "targets": ["crm-follow", "marts-follow"] },
                { "name": "reverse-etl", "when": { "jobIds": ["720"] }, "targets": ["hightouch-follow", "census-follow"] },
                { "name": "semantic-model", "when": { "jobIds": ["730"] }, "targets": ["model-follow"] },
                { "name": "fields-prod", "when": { "jobIds": ["740"], "fields": { "data.environmentName": "Production", "data.runReason": { "regex": "^Kicked off" } } }, "targets": ["fields"] },
                { "name": "paused", "when": { "jobIds": ["760"] }, "targets": ["paused-target"] },
                { "name": "coalesced", "when": { "jobIds": ["770"] }, "targets": ["coalesced"] },
                { "name": "limited-a", "when": { "jobIds": ["781"] }, "targets": ["limited-a"] },
                { "name": "limited-b", "when": { "jobIds": ["782"] }, "targets": ["limited-b"] },
                { "name": "fields-staging", "when": { "jobIds": ["740"], "fields": { "data.environmentName": { "oneOf": ["Staging"] } } }, "targets": ["fields"] }
              ] }
            """;
    }

    /// <summary>Skips (or in CI fails) a test when there is no host; call first in each test.</summary>
    public void Require()
    {
        FunctionsHost.RequireInstalled();
        Assert.NotNull(Host);
    }

    /// <summary>A dbt event for <paramref name="jobId"/>, signed with the webhook's secret, POSTed to the host.</summary>
    public async Task<HttpResponseMessage> SendAsync(string eventId, string jobId, HttpClient? client = null)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId, jobId: jobId));
        return await PostSignedAsync(body, DbtPayloads.Sign(WebhookSecret, body), client);
    }

    public async Task<HttpResponseMessage> PostSignedAsync(byte[] body, string? signature, HttpClient? client = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Host.Url("api/dbt/webhook")) { Content = new ByteArrayContent(body) };
        if (signature is not null) request.Headers.TryAddWithoutValidation("Authorization", signature);
        return await (client ?? Client).SendAsync(request);
    }

    /// <summary>A request to the ops or events API with the host's function key (or <paramref name="key"/>; "" for none).</summary>
    public async Task<HttpResponseMessage> OpsAsync(HttpMethod method, string pathAndQuery, string? key = null)
    {
        using var request = new HttpRequestMessage(method, Host.Url($"api/{pathAndQuery}"));
        key ??= Host.FunctionKey;
        if (key.Length > 0) request.Headers.Add("x-functions-key", key);
        return await Client.SendAsync(request);
    }

    /// <summary>The event's delivery history, read through the host's events API.</summary>
    public async Task<EventTimeline?> TimelineAsync(string eventId)
    {
        using var response = await OpsAsync(HttpMethod.Get, $"events/{eventId}");
        return response.StatusCode == HttpStatusCode.OK ? HistoryJson.DeserializeTimeline(await response.Content.ReadAsByteArrayAsync()) : null;
    }

    /// <summary>Waits until the event's every target is in <paramref name="state"/> (a minute at most: retries and polls take seconds).</summary>
    public async Task<EventTimeline> WaitForAsync(string eventId, string state, int targets)
    {
        EventTimeline? timeline = null;
        await Eventually.True(async () => (timeline = await TimelineAsync(eventId)) is { } t && t.Targets.Count == targets && t.Targets.All(x => x.State == state),
            TimeSpan.FromMinutes(1));
        return timeline!;
    }

    /// <summary>Waits until nothing is left in the relay's work queues, invisible (in-flight or delayed) messages included.</summary>
    public async Task SettledAsync()
    {
        async Task<bool> Empty(string queue) => (await Queues.Queue(queue).GetPropertiesAsync()).Value.ApproximateMessagesCount == 0;
        await Eventually.True(async () => await Empty(QueueNames.Events) && await Empty(QueueNames.Deliveries), TimeSpan.FromMinutes(1));
    }

    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    public async Task DisposeAsync()
    {
        if (Host is not null) await Host.DisposeAsync();
        await Storage.DisposeAsync();
        Client.Dispose();
        foreach (var fake in new FakeApi[] { RudderStack, Elementary, Dbt, LimitedDbt, Http, Flaky, Refusing, ApplicationInsights, Hightouch, Census, PowerBi, Identity }) await fake.DisposeAsync();
    }
}

/// <summary>Test classes that share one <see cref="HostedRelay"/>; they run one after another (a host is two busy processes).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostTests : ICollectionFixture<HostedRelay>
{
    public const string Name = "Functions host";
}
