using System.Diagnostics.Metrics;
using System.Text.Json;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Telemetry;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>
/// The follow stage over the fake RudderStack and dbt Cloud status APIs, on a manual clock: each status check is a
/// delayed message, the run's end reaches the history, the metric and onFailure once.
/// </summary>
public sealed class FollowTests : IAsyncLifetime
{
    private const string RudderToken = "rs-token-abc";
    private const string DbtToken = "dbt-token-123";
    private const string EventId = "wev_follow_1";
    private const string AlertText = "{{downstream.target}} run {{downstream.id}} {{downstream.state}}: {{downstream.error}} (dbt run {{data.runId}})";

    private readonly FakeRudderStack _rudder = new(RudderToken, "conn1");
    private readonly FakeDbtCloud _dbt = new(DbtToken, 12345);
    private readonly FakeHttpEndpoint _alert = new();

    private static Dictionary<string, string?> Secrets => new() { ["rudderstack-token"] = RudderToken, ["dbt-api-token"] = DbtToken };

    private string Config(string crmFollow = """{ "every": "30s", "maxWait": "10m" }""", string targets = "\"crm-followed\", \"marts-followed\"", string crmOnFailure = """["alert"]""", string crmExtra = "", string martsExtra = "") => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm-followed": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token", "baseUrl": "{{_rudder.ApiBase}}",
                          "follow": {{crmFollow}}, "onFailure": {{crmOnFailure}}{{crmExtra}} },
            "marts-followed": { "type": "dbt-cloud-job", "accessUrl": "{{_dbt.BaseUrl}}", "accountId": 12345, "jobId": 54321, "token": "dbt-api-token",
                           "follow": { "every": "1m", "maxWait": "1h" }, "onFailure": ["alert"]{{martsExtra}} },
            "alert": { "type": "http", "url": "{{_alert.BaseUrl}}hook",
                       "body": { "text": "{{AlertText}}" } }
          },
          "routes": [ { "name": "after-marts", "when": { "runStatus": ["Success"] }, "targets": [{{targets}}] } ]
        }
        """;

    [Fact]
    public async Task A_sync_that_succeeds_after_two_running_checks_is_recorded_with_its_counts_and_duration()
    {
        _rudder.StatusScript = ["running", "running", "succeeded"];
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets);
        using var runs = new RunCounter();

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        var following = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Delivered, "sync_1", DownstreamStates.Running), (following.State, following.Run?.Id, following.Run?.State));
        Assert.Equal([TimeSpan.FromSeconds(30)], relay.Time.PendingDelays());

        for (var check = 1; check <= 3; check++)
        {
            relay.Time.Advance(TimeSpan.FromSeconds(30));
            await relay.RunDueAsync();
        }

        var crm = await TimelineAsync(relay);
        Assert.Equal(EventStatus.Succeeded, crm.State);
        var run = crm.Run!;
        Assert.Equal((DownstreamStates.Succeeded, "succeeded", 3), (run.State, run.VendorStatus, run.Checks));
        Assert.Equal(new Dictionary<string, long> { ["succeeded"] = 10, ["failed"] = 0, ["changed"] = 10, ["total"] = 10 }, run.Counts);
        Assert.NotNull(run.StartedAt);
        Assert.NotNull(run.DurationMs);
        Assert.Equal(3, _rudder.StatusChecks("conn1"));
        Assert.Empty(relay.Time.PendingDelays());
        Assert.Equal(EventStatus.Succeeded, (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!.Status);
        Assert.Equal([("crm-followed", "succeeded")], runs.Results);
        Assert.Empty(_alert.Received);
        // Each check carries the sync's own bearer token, as the start did.
        Assert.All(_rudder.Received.Where(r => r.Method == "GET"), r => Assert.Equal($"Bearer {RudderToken}", r.Header("Authorization")));
    }

    [Fact]
    public async Task A_failed_sync_fails_the_event_and_calls_onFailure_once_with_the_error()
    {
        _rudder.StatusScript = ["running", "failed"];
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets);
        using var runs = new RunCounter();

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId, runId: "70000042"));
        await relay.RunDueAsync();
        for (var check = 1; check <= 2; check++)
        {
            relay.Time.Advance(TimeSpan.FromSeconds(30));
            await relay.RunDueAsync();
        }

        var timeline = (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!;
        Assert.Equal(EventStatus.Failed, timeline.Status);
        var crm = timeline.Targets.Single(t => t.Target == "crm-followed");
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed, _rudder.FailureText), (crm.State, crm.Run!.State, crm.Run.Error));
        Assert.Equal(3, crm.Run.Counts!["failed"]);
        var notice = Assert.Single(_alert.Received);
        using (var body = JsonDocument.Parse(notice.Body))
        {
            Assert.Equal($"crm-followed run sync_1 failed: {_rudder.FailureText} (dbt run 70000042)", body.RootElement.GetProperty("text").GetString());
        }
        // The notice is kept with the run it was about; the alert target is not one of the event's routed targets.
        var sent = Assert.Single(crm.Notices);
        Assert.Equal(("alert", EventStatus.Delivered, "sync_1", 200), (sent.Notified, sent.Outcome, sent.AboutRun, sent.HttpStatus));
        Assert.DoesNotContain(timeline.Targets, t => t.Target == "alert");
        Assert.Equal([("crm-followed", "failed")], runs.Results);
        Assert.Contains(relay.Logs.Entries, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error && l.Text.Contains("run sync_1", StringComparison.Ordinal)
            && l.Text.Contains("failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_dbt_cloud_run_is_followed_to_its_error_and_a_cancelled_one_to_cancelled()
    {
        _dbt.StatusScript = [1, 3, 20];
        await using var relay = new RelayHarness(Config(targets: "\"marts-followed\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        for (var check = 1; check <= 3; check++)
        {
            relay.Time.Advance(TimeSpan.FromMinutes(1));
            await relay.RunDueAsync();
        }

        var marts = await TimelineAsync(relay, "marts-followed");
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed, "Error"), (marts.State, marts.Run!.State, marts.Run.VendorStatus));
        Assert.Equal("Database Error in model orders (models/orders.sql)", marts.Run.Error);
        Assert.Equal(125_000, marts.Run.DurationMs);
        Assert.StartsWith("https://cloud.getdbt.com/deploy/", marts.Run.Url, StringComparison.Ordinal);
        Assert.Equal(3, _dbt.StatusChecks);
        Assert.Single(_alert.Received);

        // A second event whose run is cancelled in dbt Cloud (status 30).
        _dbt.StatusScript = [30];
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_follow_cancelled", runId: "70000077"));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(1));
        await relay.RunDueAsync();
        var cancelled = (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync("wev_follow_cancelled", default))!;
        var run = cancelled.Targets.Single().Run!;
        Assert.Equal((EventStatus.Failed, DownstreamStates.Cancelled, "Cancelled"), (cancelled.Status, run.State, run.VendorStatus));
        Assert.Equal(2, _alert.Received.Count);
        Assert.Contains("cancelled", _alert.Received.Last().BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_run_that_never_finishes_times_out_at_maxWait_and_notifies()
    {
        _rudder.StatusScript = ["running"];
        await using var relay = new RelayHarness(Config("""{ "every": "1m", "maxWait": "5m" }""", "\"crm-followed\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        for (var check = 1; check <= 8 && relay.Time.PendingDelays().Count > 0; check++)
        {
            relay.Time.Advance(TimeSpan.FromMinutes(1));
            await relay.RunDueAsync();
        }

        var crm = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Failed, DownstreamStates.TimedOut), (crm.State, crm.Run!.State));
        Assert.Contains("after 5m (maxWait)", crm.Run.Detail, StringComparison.Ordinal);
        Assert.Equal(5, _rudder.StatusChecks("conn1"));
        Assert.Single(_alert.Received);
        Assert.Contains("timed out", _alert.Received.Single().BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_status_api_answering_429_and_500_for_a_while_backs_off_and_the_run_is_still_followed_to_its_end()
    {
        _rudder.StatusScript = ["succeeded"];
        _rudder.StatusFailures.Enqueue(429);
        _rudder.StatusFailures.Enqueue(500);
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        var delays = new List<TimeSpan>();
        while (relay.Time.PendingDelays() is [var next, ..])
        {
            delays.Add(next);
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }

        // The first check after the interval; then doubling (429's Retry-After of 1 s is shorter), then success.
        Assert.Equal([TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)], delays);
        var crm = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Succeeded, 3), (crm.State, crm.Run!.Checks));
        Assert.Empty(_alert.Received);
    }

    [Fact]
    public async Task A_status_api_that_keeps_failing_ends_unknown_instead_of_retrying_forever()
    {
        for (var i = 0; i < 20; i++) _rudder.StatusFailures.Enqueue(503);
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets,
            settings: new Dictionary<string, string?> { ["Secrets:dbt-webhook"] = RelayHarness.WebhookSecret, ["Delivery:MaxStatusFailures"] = "4" });

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        while (relay.Time.PendingDelays() is [var next, ..])
        {
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }

        var crm = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Unknown, DownstreamStates.Unknown), (crm.State, crm.Run!.State));
        Assert.Contains("failed 4 checks in a row", crm.Run.Detail, StringComparison.Ordinal);
        Assert.Equal(4, _rudder.StatusChecks("conn1"));
        Assert.Single(_alert.Received);
    }

    [Fact]
    public async Task Copies_of_a_check_message_make_one_check_and_one_notice()
    {
        _rudder.StatusScript = ["failed"];
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();

        // The queue hands the same check to three workers (an at-least-once queue after a crash, or a lease that ran out).
        relay.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var check));
        for (var copy = 0; copy < 3; copy++) await relay.Queues.Deliveries.Writer.WriteAsync(check);
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.StatusChecks("conn1"));
        Assert.Single(_alert.Received);
    }

    [Fact]
    public async Task Follow_false_leaves_the_target_delivered_and_queues_no_check()
    {
        await using var relay = new RelayHarness(Config("false", "\"crm-followed\"", crmOnFailure: "[]"), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();

        var crm = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Delivered, null), (crm.State, crm.Run));
        Assert.Empty(relay.Time.PendingDelays());
    }

    [Fact]
    public async Task A_vendor_error_echoing_the_token_is_stored_and_sent_masked()
    {
        _rudder.StatusScript = ["failed"];
        _rudder.FailureText = $"auth header Bearer {RudderToken} rejected by destination";
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromSeconds(30));
        await relay.RunDueAsync();

        var crm = await TimelineAsync(relay);
        Assert.Equal("auth header Bearer *** rejected by destination", crm.Run!.Error);
        Assert.DoesNotContain(RudderToken, _alert.Received.Single().BodyText, StringComparison.Ordinal);
        Assert.DoesNotContain(RudderToken, relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_409_with_onConflict_skip_follows_the_sync_already_running()
    {
        _rudder.SyncRunning = true;
        _rudder.StatusScript = ["succeeded"];
        await using var relay = new RelayHarness(Config(targets: "\"crm-followed\"", crmExtra: ", \"onConflict\": \"skip\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromSeconds(30));
        await relay.RunDueAsync();

        var crm = await TimelineAsync(relay);
        Assert.Equal((EventStatus.Succeeded, FakeRudderStack.RunningSyncId), (crm.State, crm.Run!.Id));
        Assert.Contains("following the running sync sync_scheduled", crm.Attempts.Single().Detail, StringComparison.Ordinal);
        Assert.Equal(1, _rudder.Starts("conn1"));
    }

    [Fact]
    public async Task A_retried_dbt_trigger_that_finds_the_run_it_started_follows_that_run()
    {
        // dbt Cloud creates the run but answers after the relay's 1 s timeout: the retry finds the run by its cause.
        _dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));
        _dbt.StatusScript = [10];
        await using var relay = new RelayHarness(Config(targets: "\"marts-followed\"", martsExtra: ", \"timeoutSeconds\": 1"), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(relay.Time.PendingDelays().Single());
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(1));
        await relay.RunDueAsync();

        var marts = await TimelineAsync(relay, "marts-followed");
        var run = Assert.Single(_dbt.Runs);
        Assert.Equal(1, _dbt.Triggers);
        Assert.Equal((EventStatus.Succeeded, run.Key.ToString(System.Globalization.CultureInfo.InvariantCulture)), (marts.State, marts.Run!.Id));
        Assert.Contains("already started by an earlier attempt", marts.Attempts[^1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_dbt_cloud_429_without_retry_after_waits_its_five_minute_cooldown_for_the_trigger_and_the_status_check()
    {
        _dbt.Script(new ScriptedAnswer(429));
        _dbt.StatusFailures.Enqueue(429);
        _dbt.StatusScript = [10];
        await using var relay = new RelayHarness(Config(targets: "\"marts-followed\""), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        Assert.Equal(TimeSpan.FromMinutes(5), Assert.Single(relay.Time.PendingDelays()));
        relay.Time.Advance(TimeSpan.FromMinutes(5));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(1));
        await relay.RunDueAsync(); // the first check gets a 429: the next one waits the cooldown, not the 1-minute interval
        Assert.Equal(TimeSpan.FromMinutes(5), Assert.Single(relay.Time.PendingDelays()));
        relay.Time.Advance(TimeSpan.FromMinutes(5));
        await relay.RunDueAsync();

        var marts = await TimelineAsync(relay, "marts-followed");
        Assert.Equal((EventStatus.Succeeded, 1), (marts.State, _dbt.Runs.Count));
        Assert.Contains("5-minute cooldown", marts.Attempts[0].Detail, StringComparison.Ordinal);
    }

    private static async Task<TargetTimeline> TimelineAsync(RelayHarness relay, string target = "crm-followed") =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!.Targets.Single(t => t.Target == target);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _rudder.DisposeAsync();
        await _dbt.DisposeAsync();
        await _alert.DisposeAsync();
    }

    /// <summary>Listens to <c>dbtrelay.downstream.runs</c> as an exporter would.</summary>
    private sealed class RunCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<(string, string)> _results = [];

        public RunCounter()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == RelayTelemetry.Name && instrument.Name == "dbtrelay.downstream.runs") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
            {
                string? target = null, result = null;
                foreach (var tag in tags)
                {
                    if (tag.Key == "target") target = tag.Value as string;
                    if (tag.Key == "result") result = tag.Value as string;
                }
                // Only this class's targets: tests of other classes run meanwhile and record too.
                if (target?.EndsWith("-followed", StringComparison.Ordinal) == true && result is not null) lock (_results) _results.Add((target, result));
            });
            _listener.Start();
        }

        public IReadOnlyList<(string, string)> Results { get { lock (_results) return [.. _results]; } }

        public void Dispose() => _listener.Dispose();
    }
}
