using System.Net;
using DbtRelay.History;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// serve as a real process on its embedded database follows a RudderStack sync and a dbt Cloud run, is killed while
/// both are being followed, and after the restart finishes following them: the failed sync notifies once, and
/// <c>dbt-relay trace</c> and <c>events --status</c> tell the story.
/// </summary>
public sealed class ServeFollowTests(Xunit.Abstractions.ITestOutputHelper log) : IAsyncLifetime
{
    private const string Secret = "follow-secret";
    private const string AdminKey = "admin-key-for-follow";
    private const string RudderToken = "rs-token-follow";
    private const string DbtToken = "dbt-token-follow";
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-follow-").FullName;
    private readonly FakeRudderStack _rudder = new(RudderToken, "conn1");
    private readonly FakeDbtCloud _dbt = new(DbtToken, 12345);
    private readonly FakeHttpEndpoint _alert = new();
    private readonly FakeHightouch _hightouch = new("ht-key-follow", 1127166);
    private readonly FakeCensus _census = new("census-token-follow", 52);
    private readonly HttpClient _http = new();

    private static Dictionary<string, string> Environment => new()
    {
        ["Secrets__dbt-webhook"] = Secret,
        ["Secrets__rudderstack-token"] = RudderToken,
        ["Secrets__dbt-api-token"] = DbtToken,
        ["Secrets__relay-admin-key"] = AdminKey,
        ["Secrets__hightouch-api-key"] = "ht-key-follow",
        ["Secrets__census-api-token"] = "census-token-follow",
    };

    private async Task<string> ConfigAsync()
    {
        var path = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(path, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": {
                "crm-sync": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token", "baseUrl": "{{{_rudder.ApiBase}}}",
                              "timeoutSeconds": 5, "follow": { "every": "1s", "maxWait": "5m" }, "onFailure": ["alert"] },
                "marts": { "type": "dbt-cloud-job", "accessUrl": "{{{_dbt.BaseUrl.ToString().TrimEnd('/')}}}", "accountId": 12345, "jobId": 77,
                           "token": "dbt-api-token", "timeoutSeconds": 5, "follow": { "every": "1s", "maxWait": "5m" }, "onFailure": ["alert"] },
                "alert": { "type": "http", "url": "{{{_alert.BaseUrl}}}slack", "body": { "text": "{{downstream.target}} {{downstream.state}}: {{downstream.error}}" } },
                "hightouch": { "type": "hightouch", "syncId": 1127166, "token": "hightouch-api-key", "baseUrl": "{{{_hightouch.BaseUrl}}}",
                               "follow": { "every": "1s", "maxWait": "5m" }, "onFailure": ["alert"] },
                "census": { "type": "census", "syncId": 52, "token": "census-api-token", "baseUrl": "{{{_census.BaseUrl}}}",
                            "follow": { "every": "1s", "maxWait": "5m" }, "onFailure": ["alert"] }
              },
              "routes": [ { "name": "after-run", "when": { "runStatus": ["Success"], "jobIds": ["123"] }, "targets": ["crm-sync", "marts"] },
                          { "name": "reverse-etl", "when": { "runStatus": ["Success"], "jobIds": ["124"] }, "targets": ["hightouch", "census"] } ] }
            """);
        return path;
    }

    [Fact]
    public async Task A_restart_mid_follow_loses_no_run_notifies_once_and_trace_shows_each_runs_end()
    {
        _rudder.StatusScript = ["running", "running", "running", "running", "failed"];
        _dbt.StatusScript = [1, 3, 3, 3, 10];
        var config = await ConfigAsync();
        var serve = await ServeProcess.StartAsync(config, ["--data", Path.Combine(_folder, "relay.db")], Environment);

        await SendAsync(serve, "wev_followed");
        await Eventually.True(() => _rudder.StatusChecks("conn1") >= 2 && _dbt.StatusChecks >= 2, TimeSpan.FromSeconds(30));
        await serve.KillAsync();
        await using var restarted = await ServeProcess.StartAsync(config, ["--data", Path.Combine(_folder, "relay.db")], Environment);
        var api = new Uri(restarted.Webhook.GetLeftPart(UriPartial.Authority));
        await Eventually.True(async () => (await TimelineAsync(api, "wev_followed")) is { } timeline
            && timeline.Targets.All(t => t.State is EventStatus.Failed or EventStatus.Succeeded)
            && !_alert.Received.IsEmpty, TimeSpan.FromSeconds(90));
        await Task.Delay(2000); // room for a second notice, were one coming

        var notice = Assert.Single(_alert.Received);
        Assert.Contains("crm-sync failed: Destination rejected 3 records", notice.BodyText, StringComparison.Ordinal);
        Assert.Equal(1, _rudder.Starts("conn1"));
        Assert.Equal(1, _dbt.Triggers);
        var (exit, trace, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = AdminKey },
            "trace", "wev_followed", "--url", api.ToString());
        Assert.True(exit == 0, error);
        log.WriteLine(trace);
        Assert.Contains("status: failed", trace, StringComparison.Ordinal);
        Assert.Contains("onFailure → alert about run sync_1: delivered", trace, StringComparison.Ordinal);
        Assert.Contains("crm-sync (rudderstack-retl): failed", trace, StringComparison.Ordinal);
        Assert.Matches(@"downstream run sync_1: failed in [\d.]+ s, \d status checks", trace);
        Assert.Contains("records: succeeded 7, failed 3, changed 10, total 10", trace, StringComparison.Ordinal);
        Assert.Contains("error: Destination rejected 3 records: invalid email", trace, StringComparison.Ordinal);
        Assert.Contains("marts (dbt-cloud-job): succeeded", trace, StringComparison.Ordinal);
        // A check in flight at the kill may have reached the fake before the relay recorded it: its count varies.
        Assert.Matches(@"downstream run 9000\d\d: succeeded \(Success\) in 2 min 5 s, \d status checks", trace);
        var (listed, events, _) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = AdminKey },
            "events", "--status", "failed", "--url", api.ToString());
        Assert.Equal(0, listed);
        Assert.Contains("wev_followed", events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hightouch_and_census_runs_are_followed_to_their_end_and_trace_shows_them()
    {
        _hightouch.StatusScript = ["queued", "querying", "processing", "warning"];
        _census.StatusScript = ["queued", "working", "failed"];
        var config = await ConfigAsync();
        await using var serve = await ServeProcess.StartAsync(config, ["--data", Path.Combine(_folder, "relay.db")], Environment);
        var api = new Uri(serve.Webhook.GetLeftPart(UriPartial.Authority));

        await SendAsync(serve, "wev_reverse_etl", jobId: "124");
        await Eventually.True(async () => (await TimelineAsync(api, "wev_reverse_etl")) is { } timeline
            && timeline.Targets.All(t => t.State is EventStatus.Failed or EventStatus.Succeeded) && !_alert.Received.IsEmpty, TimeSpan.FromSeconds(60));

        var (exit, trace, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = AdminKey },
            "trace", "wev_reverse_etl", "--url", api.ToString());
        Assert.True(exit == 0, error);
        log.WriteLine(trace);
        Assert.Contains("hightouch (hightouch): succeeded", trace, StringComparison.Ordinal);
        Assert.Matches(@"downstream run 4827261: succeeded \(warning\) in 42 s, 4 status checks", trace);
        Assert.Contains("records: succeeded added 20, succeeded changed 95, succeeded removed 0, failed added 0, failed changed 5", trace, StringComparison.Ordinal);
        Assert.Contains("census (census): failed", trace, StringComparison.Ordinal);
        Assert.Matches(@"downstream run 95: failed in 1 min 22 s, 3 status checks", trace);
        Assert.Contains("error: The array field being used does not appear to be valid JSON", trace, StringComparison.Ordinal);
        Assert.Contains("census failed: The array field", Assert.Single(_alert.Received).BodyText, StringComparison.Ordinal);
        Assert.Equal((1, 1), (_hightouch.Runs.Count, _census.Runs.Count));
    }

    [Fact]
    public async Task A_power_bi_refresh_signed_in_with_azure_identitys_managed_identity_is_followed_to_its_end()
    {
        const string group = "f089354e-8366-4e18-aea3-4cb4a3a50b48", dataset = "cfafbeb1-8037-4d0c-896e-a46fb27ff229", clientId = "11111111-2222-3333-4444-555555555555";
        await using var powerBi = new FakePowerBi(group, dataset) { StatusScript = ["Unknown", "Completed"] };
        await using var identity = new FakeManagedIdentity(clientId);
        var config = Path.Combine(_folder, "powerbi.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "sales-model": { "type": "powerbi-refresh", "groupId": "{{{group}}}", "datasetId": "{{{dataset}}}", "baseUrl": "{{{powerBi.BaseUrl}}}",
                                            "managedIdentityClientId": "{{{clientId}}}", "follow": { "every": "1s", "maxWait": "5m" } } },
              "routes": [ { "name": "after-run", "when": { "runStatus": ["Success"] }, "targets": ["sales-model"] } ] }
            """);
        // The variables App Service and Functions give an app: Azure.Identity finds the identity endpoint through them.
        var environment = Environment;
        foreach (var (key, value) in identity.Environment) environment[key] = value;
        await using var serve = await ServeProcess.StartAsync(config, ["--in-memory"], environment);
        var api = new Uri(serve.Webhook.GetLeftPart(UriPartial.Authority));

        await SendAsync(serve, "wev_powerbi");
        await Eventually.True(async () => (await TimelineAsync(api, "wev_powerbi"))?.Status == EventStatus.Succeeded, TimeSpan.FromSeconds(30));

        var (exit, trace, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = AdminKey },
            "trace", "wev_powerbi", "--url", api.ToString());
        Assert.True(exit == 0, error);
        log.WriteLine(trace);
        Assert.Contains("sales-model (powerbi-refresh): succeeded", trace, StringComparison.Ordinal);
        Assert.Matches(@"downstream run [0-9a-f-]{36}: succeeded \(Completed\) in 1 min 15 s, 2 status checks", trace);
        Assert.True(identity.TokensIssued >= 1);
        Assert.Contains(identity.Received, r => r.PathAndQuery.Contains($"client_id={clientId}", StringComparison.Ordinal)
            && r.PathAndQuery.Contains("resource=https://analysis.windows.net/powerbi/api", StringComparison.Ordinal));
        Assert.Equal(1, powerBi.Refreshes);
    }

    private async Task SendAsync(ServeProcess serve, string eventId, string jobId = "123") =>
        Assert.Equal(HttpStatusCode.Accepted, await serve.SendSignedAsync(_http, DbtPayloads.Completed(eventId: eventId, jobId: jobId), Secret));

    private Task<EventTimeline?> TimelineAsync(Uri api, string eventId) => ServeProcess.TimelineAsync(_http, api, eventId, AdminKey);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _rudder.DisposeAsync();
        await _dbt.DisposeAsync();
        await _alert.DisposeAsync();
        await _hightouch.DisposeAsync();
        await _census.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
