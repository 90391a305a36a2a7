using DbtRelay.Delivery;
using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;

namespace DbtRelay.Tests.Delivery;

/// <summary>The route → deliver pipeline against fake RudderStack, Elementary and dbt Cloud servers.</summary>
public sealed class PipelineTests : IAsyncLifetime
{
    private const string RudderToken = "rs-token-abc";
    private const string ElementarySecret = "el-secret-xyz";
    private const string DbtToken = "dbt-token-123";

    private readonly FakeRudderStack _rudder = new(RudderToken, "conn1");
    private readonly FakeElementary _elementary = new(ElementarySecret);
    private readonly FakeDbtCloud _dbt = new(DbtToken, 12345);

    private Dictionary<string, string?> Secrets => new()
    {
        ["rudderstack-token"] = RudderToken,
        ["elementary-secret"] = ElementarySecret,
        ["dbt-api-token"] = DbtToken,
    };

    private string Config(string onConflict = "retry", int dbtTimeoutSeconds = 30) => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm-sync": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token",
                          "baseUrl": "{{_rudder.ApiBase}}", "onConflict": "{{onConflict}}" },
            "elementary": { "type": "elementary", "url": "{{_elementary.WebhookUrl}}", "secret": "elementary-secret" },
            "marts-job": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 54321,
                           "token": "dbt-api-token", "timeoutSeconds": {{dbtTimeoutSeconds}} },
            "on-start": { "type": "elementary", "url": "{{_elementary.WebhookUrl}}", "secret": "elementary-secret" }
          },
          "routes": [
            { "name": "after-marts", "when": { "eventTypes": ["job.run.completed"], "runStatus": ["Success"], "jobIds": ["123"] },
              "targets": ["crm-sync", "elementary"] },
            { "name": "chain", "when": { "runStatus": [10], "jobIds": ["123"] }, "targets": ["marts-job", "crm-sync"] },
            { "name": "starts", "when": { "eventTypes": ["job.run.started"] }, "targets": ["on-start"] }
          ]
        }
        """;

    [Fact]
    public async Task A_successful_run_fires_each_matched_target_once_even_when_two_routes_name_it()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1")));
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.Starts("conn1"));
        Assert.Single(_elementary.SignatureChecks);
        Assert.Equal(1, _dbt.Triggers);
        Assert.Contains(_dbt.Runs.Values, r => r.JobId == 54321 && r.Cause.Contains("wev_1", StringComparison.Ordinal));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("syncId sync_1", relay.Logs.AllText);
    }

    [Fact]
    public async Task Five_redeliveries_of_one_event_call_each_target_exactly_once()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        for (var i = 0; i < 5; i++)
        {
            await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_same"));
            await relay.RunDueAsync();
        }

        Assert.Equal(1, _rudder.Starts("conn1"));
        Assert.Single(_elementary.SignatureChecks);
        Assert.Equal(1, _dbt.Triggers);
    }

    [Fact]
    public async Task A_duplicated_delivery_message_still_calls_the_target_once()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_dup"));
        await relay.RunDueAsync();
        var envelope = RelayJson.DeserializeDelivery(RelayJson.Serialize(new DeliveryMessage
        {
            Target = "crm-sync", Attempt = 1, FirstQueuedAt = relay.Time.GetUtcNow(),
            Event = new EventEnvelope { EventId = "wev_dup", EventType = "job.run.completed", Webhook = "prod", ReceivedAt = relay.Time.GetUtcNow(), Body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_dup")) },
        }));

        await relay.Queues.EnqueueDeliveryAsync(envelope, TimeSpan.Zero, default); // at-least-once queue redelivery
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.Starts("conn1"));
    }

    [Theory]
    [InlineData("Errored", 20)]
    [InlineData("Cancelled", 30)]
    public async Task Errored_and_cancelled_runs_do_not_fire_success_routes(string status, int code)
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(runStatus: status, statusCode: code));
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_err2", eventType: "job.run.errored", runStatus: status, statusCode: code));
        await relay.RunDueAsync();

        Assert.Empty(_rudder.Received);
        Assert.Empty(_elementary.Received);
        Assert.Empty(_dbt.Received);
        Assert.Contains("No route matches", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_started_event_fires_only_the_routes_that_name_it()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventType: "job.run.started", runStatus: "Running", statusCode: 3));
        await relay.RunDueAsync();

        Assert.Single(_elementary.Received); // on-start
        Assert.Empty(_rudder.Received);
        Assert.Empty(_dbt.Received);
    }

    [Fact]
    public async Task Another_job_id_fires_nothing()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(jobId: "999"));
        await relay.RunDueAsync();

        Assert.Empty(_rudder.Received);
        Assert.Empty(_dbt.Received);
    }

    [Fact]
    public async Task Two_500s_then_200_delivers_on_the_third_attempt_after_growing_delays()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _rudder.Script(new ScriptedAnswer(500), new ScriptedAnswer(500));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        var first = Assert.Single(relay.Time.PendingDelays());
        relay.Time.Advance(first);
        await relay.RunDueAsync();
        var second = Assert.Single(relay.Time.PendingDelays());
        relay.Time.Advance(second);
        await relay.RunDueAsync();

        Assert.Equal(3, _rudder.Starts("conn1"));
        Assert.Empty(relay.Time.PendingDelays());
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.InRange(first.TotalSeconds, 8, 12);   // 10 s ± 20 %
        Assert.InRange(second.TotalSeconds, 16, 24); // 20 s ± 20 %
        Assert.True(second > first);
        Assert.Contains("on attempt 3", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_429_with_Retry_After_is_not_retried_before_it()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _rudder.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(70)));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var delay = Assert.Single(relay.Time.PendingDelays());
        Assert.True(delay >= TimeSpan.FromSeconds(70), $"retried after {delay}");
        relay.Time.Advance(TimeSpan.FromSeconds(69));
        await relay.RunDueAsync();
        Assert.Equal(1, _rudder.Starts("conn1"));
        relay.Time.Advance(delay - TimeSpan.FromSeconds(69));
        await relay.RunDueAsync();
        Assert.Equal(2, _rudder.Starts("conn1"));
    }

    [Fact]
    public async Task A_short_Retry_After_never_shortens_the_backoff()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _rudder.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(7)));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.True(Assert.Single(relay.Time.PendingDelays()) >= TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task A_401_is_dead_lettered_after_one_attempt_with_the_reason()
    {
        await using var relay = new RelayHarness(Config(), new Dictionary<string, string?>(Secrets) { ["rudderstack-token"] = "wrong" });

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_401"));
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.Starts("conn1"));
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Equal("crm-sync", dead.Delivery.Target);
        Assert.Equal("wev_401", dead.Delivery.Event.EventId);
        Assert.Contains("401", dead.Reason);
        Assert.Empty(relay.Time.PendingDelays());
        Assert.DoesNotContain("wrong", relay.Logs.AllText.Replace("wrong secret", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_unknown_connection_is_dead_lettered_as_permanent()
    {
        var config = Config().Replace("\"conn1\"", "\"missing\"", StringComparison.Ordinal);
        await using var relay = new RelayHarness(config, Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Contains(relay.Queues.DeadLetters, d => d.Delivery.Target == "crm-sync" && d.Reason.Contains("404", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_409_with_onConflict_retry_tries_again_later()
    {
        await using var relay = new RelayHarness(Config(onConflict: "retry"), Secrets);
        _rudder.SyncRunning = true;

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        Assert.Single(relay.Time.PendingDelays());
        _rudder.SyncRunning = false;
        relay.Time.Advance(relay.Time.PendingDelays()[0]);
        await relay.RunDueAsync();

        Assert.Equal(2, _rudder.Starts("conn1"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("syncId", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_409_with_onConflict_skip_counts_as_delivered()
    {
        await using var relay = new RelayHarness(Config(onConflict: "skip"), Secrets);
        _rudder.SyncRunning = true;

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.Starts("conn1"));
        Assert.Empty(relay.Time.PendingDelays());
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task Retries_stop_at_the_attempt_limit_and_dead_letter_with_the_last_reason()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _rudder.Script(Enumerable.Repeat(new ScriptedAnswer(503), 20).ToArray());

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        var delays = new List<TimeSpan>();
        while (relay.Time.PendingDelays() is [var next, ..])
        {
            delays.Add(next);
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }

        Assert.Equal(new RetryOptions().MaxAttempts, _rudder.Starts("conn1"));
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains("gave up after 12 attempts", dead.Reason);
        Assert.Contains("503", dead.Reason);
        Assert.All(delays, d => Assert.True(d <= TimeSpan.FromHours(1.2)));
    }

    [Fact]
    public async Task Elementary_receives_a_body_signed_with_its_secret()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.True(Assert.Single(_elementary.SignatureChecks));
        Assert.Empty(Assert.Single(_elementary.Received).Body);
    }

    [Fact]
    public async Task A_retried_dbt_trigger_for_the_longest_event_id_finds_its_run_by_the_cause_marker()
    {
        await using var relay = new RelayHarness(Config(dbtTimeoutSeconds: 1), Secrets);
        _dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));
        var eventId = "wev_" + new string('L', DbtEventReader.MaxFieldLength - 4);

        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: eventId)));
        await relay.RunDueAsync();
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        var run = Assert.Single(_dbt.Runs).Value;
        Assert.InRange(run.Cause.Length, 1, DbtCloudJobTarget.MaxCauseLength);
        Assert.Contains(DbtCloudJobTarget.CauseMarker(eventId), run.Cause, StringComparison.Ordinal);
        Assert.Equal(1, _dbt.Triggers);
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task The_rudderstack_start_request_is_framed_with_a_content_length_as_in_its_docs()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var start = Assert.Single(_rudder.Received, r => r.Method == "POST");
        Assert.Equal("""{"syncType":"incremental"}""", start.BodyText);
        Assert.Equal(start.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), start.Header("Content-Length"));
        Assert.Null(start.Header("Transfer-Encoding"));
        Assert.StartsWith("application/json", start.Header("Content-Type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dbt_trigger_that_timed_out_after_creating_the_run_is_not_triggered_again()
    {
        await using var relay = new RelayHarness(Config(dbtTimeoutSeconds: 1), Secrets);
        // dbt Cloud creates the run, then answers after our 1 s timeout.
        _dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_slow"));
        await relay.RunDueAsync();
        Assert.Single(_dbt.Runs);
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        Assert.Single(_dbt.Runs);
        Assert.Equal(1, _dbt.Triggers);
        Assert.Equal(1, _dbt.Calls("GET", "/api/v2/accounts/12345/runs/"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("already started by an earlier attempt", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_dbt_502_with_no_run_created_is_triggered_again_once()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _dbt.Script(new ScriptedAnswer(502));

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_502"));
        await relay.RunDueAsync();
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        Assert.Single(_dbt.Runs);
        Assert.Equal(2, _dbt.Triggers);
    }

    [Fact]
    public async Task A_missing_token_dead_letters_naming_the_secret_and_where_to_set_it()
    {
        await using var relay = new RelayHarness(Config(), new Dictionary<string, string?>(Secrets) { ["dbt-api-token"] = null });

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Equal("marts-job", dead.Delivery.Target);
        Assert.Contains("dbt-api-token", dead.Reason);
        Assert.Contains("Secrets__dbt_api_token", dead.Reason);
        Assert.Empty(_dbt.Received);
    }

    [Fact]
    public async Task Replaying_a_dead_letter_delivers_it_once_the_cause_is_fixed()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        _rudder.Script(new ScriptedAnswer(403));
        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        Assert.Single(relay.Queues.DeadLetters);

        Assert.Equal(1, await relay.Queues.ReplayAsync(int.MaxValue, null, default));
        await relay.RunDueAsync();

        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Equal(2, _rudder.Starts("conn1"));
    }

    [Fact]
    public async Task A_target_may_be_named_like_the_routers_own_bookkeeping()
    {
        var config = Config()
            .Replace("\"elementary\": {", "\"routed\": {", StringComparison.Ordinal)
            .Replace("[\"crm-sync\", \"elementary\"]", "[\"crm-sync\", \"routed\"]", StringComparison.Ordinal);
        await using var relay = new RelayHarness(config, Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Single(_elementary.SignatureChecks);
    }

    [Fact]
    public async Task Every_call_carries_the_DbtRelay_user_agent()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.All(_rudder.Received.Concat(_dbt.Received).Concat(_elementary.Received),
            r => Assert.StartsWith("DbtRelay/", r.Header("User-Agent"), StringComparison.Ordinal));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _rudder.DisposeAsync();
        await _elementary.DisposeAsync();
        await _dbt.DisposeAsync();
    }
}
