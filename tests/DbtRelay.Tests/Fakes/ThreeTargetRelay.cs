namespace DbtRelay.Tests.Fakes;

/// <summary>
/// A relay whose targets are fake RudderStack, Elementary and dbt Cloud servers on loopback, shared by the pipeline
/// tests and each target type's tests. Runs are not followed here (FollowTests covers that), so the clock's pending
/// delays are the deliveries' own.
/// </summary>
public abstract class ThreeTargetRelay : IAsyncLifetime
{
    protected const string RudderToken = "rs-token-abc";
    protected const string ElementarySecret = "el-secret-xyz";
    protected const string DbtToken = "dbt-token-123";

    private protected readonly FakeRudderStack Rudder = new(RudderToken, "conn1");
    private protected readonly FakeElementary Elementary = new(ElementarySecret);
    private protected readonly FakeDbtCloud Dbt = new(DbtToken, 12345);

    protected static Dictionary<string, string?> Secrets => new()
    {
        ["rudderstack-token"] = RudderToken,
        ["elementary-secret"] = ElementarySecret,
        ["dbt-api-token"] = DbtToken,
    };

    protected string Config(string onConflict = "retry", int dbtTimeoutSeconds = 30) => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm-sync": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token",
                          "baseUrl": "{{Rudder.ApiBase}}", "onConflict": "{{onConflict}}", "follow": false },
            "elementary": { "type": "elementary", "url": "{{Elementary.WebhookUrl}}", "secret": "elementary-secret" },
            "marts-job": { "type": "dbt-cloud-job", "accessUrl": "{{Dbt.BaseUrl}}", "accountId": 12345, "jobId": 54321,
                           "token": "dbt-api-token", "timeoutSeconds": {{dbtTimeoutSeconds}}, "follow": false },
            "on-start": { "type": "elementary", "url": "{{Elementary.WebhookUrl}}", "secret": "elementary-secret" }
          },
          "routes": [
            { "name": "after-marts", "when": { "eventTypes": ["job.run.completed"], "runStatus": ["Success"], "jobIds": ["123"] },
              "targets": ["crm-sync", "elementary"] },
            { "name": "chain", "when": { "runStatus": [10], "jobIds": ["123"] }, "targets": ["marts-job", "crm-sync"] },
            { "name": "starts", "when": { "eventTypes": ["job.run.started"] }, "targets": ["on-start"] }
          ]
        }
        """;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await Rudder.DisposeAsync();
        await Elementary.DisposeAsync();
        await Dbt.DisposeAsync();
    }
}
