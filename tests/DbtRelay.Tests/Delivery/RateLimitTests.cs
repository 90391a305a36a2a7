using DbtRelay.History;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>dbt Cloud's rate limit is an account's: after a 429 no call goes to that account for its 5-minute cooldown.</summary>
public sealed class RateLimitTests : IAsyncLifetime
{
    private const string DbtToken = "dbt-token-limits";
    private readonly FakeDbtCloud _dbt = new(DbtToken, 12345);
    private readonly FakeHttpEndpoint _slack = new();

    private string Config => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "marts-a": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 1, "token": "dbt-api-token", "follow": false },
            "marts-b": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 2, "token": "dbt-api-token", "follow": false },
            "slack": { "type": "http", "url": "{{_slack.BaseUrl}}hook" }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["marts-a", "marts-b", "slack"] } ]
        }
        """;

    [Fact]
    public async Task A_429_for_one_job_holds_every_call_to_that_account_for_the_cooldown_without_counting_an_attempt()
    {
        _dbt.Script(new ScriptedAnswer(429));
        await using var relay = new RelayHarness(Config, secrets: new Dictionary<string, string?> { ["dbt-api-token"] = DbtToken });

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_limited"));
        await relay.RunDueAsync();
        Assert.Equal(1, _dbt.Triggers); // marts-a was told 429; marts-b did not call
        Assert.Single(_slack.Received); // another vendor is not held back

        relay.Time.Advance(TimeSpan.FromMinutes(4));
        await relay.RunDueAsync();
        Assert.Equal(1, _dbt.Triggers);

        relay.Time.Advance(TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(11));
        await relay.RunDueAsync();

        Assert.Equal(3, _dbt.Calls("POST", "/api/v2/accounts/12345/jobs/"));
        var timeline = (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync("wev_limited", default))!;
        var b = timeline.Targets.Single(t => t.Target == "marts-b");
        Assert.Equal((EventStatus.Delivered, 1), (b.State, b.Attempts.Single().Attempt));
        var a = timeline.Targets.Single(t => t.Target == "marts-a");
        Assert.Equal([(1, 429), (2, 200)], a.Attempts.Select(x => (x.Attempt, x.HttpStatus ?? 0)));
        Assert.Contains(relay.Logs.Entries, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning
            && l.Text.Contains($"dbt Cloud account 12345 at {_dbt.BaseUrl.Authority} rate-limited marts-a", StringComparison.Ordinal));
    }

    private string SeparateJobsConfig => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "marts-a": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 1, "token": "dbt-api-token", "follow": false },
            "marts-b": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 2, "token": "dbt-api-token", "follow": false }
          },
          "routes": [
            { "name": "a", "when": { "jobIds": ["1"] }, "targets": ["marts-a"] },
            { "name": "b", "when": { "jobIds": ["2"] }, "targets": ["marts-b"] }
          ]
        }
        """;

    private RelayHarness SeparateJobs() => new(SeparateJobsConfig, secrets: new Dictionary<string, string?> { ["dbt-api-token"] = DbtToken },
        settings: new Dictionary<string, string?> { ["Secrets:dbt-webhook"] = RelayHarness.WebhookSecret, ["Delivery:Jitter"] = "0" });

    // A Retry-After of years on one 429 holds the account back at most RateLimitCooldowns.Longest.
    [Fact]
    public async Task A_huge_Retry_After_holds_the_account_back_at_most_the_longest_cooldown()
    {
        _dbt.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromDays(3650)));
        await using var relay = SeparateJobs();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_a", jobId: "1"));
        await relay.RunDueAsync();
        Assert.Equal(1, _dbt.Triggers);

        for (var day = 0; day < 30; day++)
        {
            relay.Time.Advance(TimeSpan.FromDays(1));
            await relay.RunDueAsync();
        }
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_b", jobId: "2", timestamp: relay.Time.GetUtcNow()));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromHours(2));
        await relay.RunDueAsync();

        Assert.True(_dbt.Triggers >= 3, $"after 30 days only {_dbt.Triggers} trigger(s) were made");
    }

    // A 429 on the run lookup (every retry of a trigger looks first) cools the account down too.
    [Fact]
    public async Task A_429_on_the_run_lookup_starts_the_account_cooldown()
    {
        _dbt.Script(new ScriptedAnswer(500), new ScriptedAnswer(429));
        await using var relay = SeparateJobs();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_a", jobId: "1"));
        await relay.RunDueAsync(); // trigger: 500
        relay.Time.Advance(TimeSpan.FromSeconds(10));
        await relay.RunDueAsync(); // attempt 2: lookup answered 429
        Assert.Equal(1, _dbt.Calls("GET", "/api/v2/accounts/12345/runs/"));

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_b", jobId: "2"));
        await relay.RunDueAsync();

        Assert.Equal(1, _dbt.Triggers); // marts-b must wait out the account's cooldown
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _dbt.DisposeAsync();
        await _slack.DisposeAsync();
    }
}
