using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>
/// The follow stage against a status API that answers whatever an attacker likes, and against races and operator
/// actions around a followed run (found by reviewing the follow stage as an attacker; each failed before its fix).
/// </summary>
public sealed class FollowHostileTests : IAsyncLifetime
{
    private const string Token = "rs-token-0123456789abcdefghijklmnopqrstuvwxyz";
    private const string EventId = "wev_attack_1";
    private const string AlertText = "{{downstream.target}} {{downstream.state}}: {{downstream.error}} {{downstream.url}}";
    private readonly HostileVendor _vendor = new();
    private readonly FakeRudderStack _rudder = new(Token, "conn1");
    private readonly FakeHttpEndpoint _alert = new();

    private static Dictionary<string, string?> Secrets => new() { ["rudderstack-token"] = Token, ["dbt-api-token"] = Token };

    private string Config(string routed = "\"crm\"", string crmBase = "", string crmExtra = "", string crmOnFailure = "[\"alert\"]") => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token", "baseUrl": "{{(crmBase == "" ? _vendor.BaseUrl + "v2" : crmBase)}}",
                     "follow": { "every": "30s", "maxWait": "1m" }, "onFailure": {{crmOnFailure}}{{crmExtra}} },
            "marts": { "type": "dbt-cloud-job", "accessUrl": "{{_vendor.BaseUrl}}", "accountId": 1, "jobId": 2, "token": "dbt-api-token",
                       "follow": { "every": "1m", "maxWait": "1h" }, "onFailure": ["alert"] },
            "alert": { "type": "http", "url": "{{_alert.BaseUrl}}hook", "body": { "text": "{{AlertText}}" } }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": [{{routed}}] } ]
        }
        """;

    private static async Task<TargetTimeline> TargetAsync(RelayHarness relay, string target) =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!.Targets.Single(t => t.Target == target);

    private static async Task DrainAsync(RelayHarness relay, int max = 20)
    {
        await relay.RunDueAsync();
        for (var i = 0; i < max && relay.Time.PendingDelays() is [var next, ..]; i++)
        {
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }
    }

    [Fact]
    public async Task A_vendor_status_word_echoing_the_token_or_control_characters_is_masked_and_cleaned_everywhere()
    {
        // An unknown status word is read as "running"; it is stored, logged and (at maxWait) sent uncapped, unmasked, with control characters.
        _vendor.StatusBodies.Enqueue(JsonSerializer.Serialize(new { status = $"queued \u001b[2J\nFAKE LOG LINE Bearer {Token}" }));
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var crm = await TargetAsync(relay, "crm");
        Assert.Equal(DownstreamStates.TimedOut, crm.Run!.State);
        Assert.Multiple(
            () => Assert.DoesNotContain(Token, crm.Run.VendorStatus ?? "", StringComparison.Ordinal),
            () => Assert.DoesNotContain(Token, relay.Logs.AllText, StringComparison.Ordinal),
            () => Assert.DoesNotContain(Token, _alert.Received.Single().BodyText, StringComparison.Ordinal),
            () => Assert.DoesNotContain('\u001b', crm.Run.VendorStatus ?? ""));
    }

    [Fact]
    public async Task A_token_straddling_the_error_text_cap_is_masked_before_the_cut()
    {
        var error = new string('x', StatusAnswer.MaxErrorLength - (Token.Length - 1)) + Token;
        _vendor.StatusBodies.Enqueue(JsonSerializer.Serialize(new { status = "failed", error }));
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var crm = await TargetAsync(relay, "crm");
        Assert.Equal(DownstreamStates.Failed, crm.Run!.State);
        Assert.Multiple(
            () => Assert.DoesNotContain(Token[..^1], crm.Run.Error!, StringComparison.Ordinal),
            () => Assert.DoesNotContain(Token[..^1], _alert.Received.Single().BodyText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_huge_dbt_href_and_status_word_are_dropped_or_capped_so_the_notice_fits_a_queue_message()
    {
        var href = "https://cloud.getdbt.com/" + new string('a', 100_000);
        _vendor.StatusBodies.Enqueue(JsonSerializer.Serialize(new { data = new { status = 20, status_humanized = new string('E', 100_000), href } }));
        await using var relay = new RelayHarness(Config(routed: "\"marts\""), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var check));
        await relay.Services.GetRequiredService<DeliveryExecutor>().ExecuteAsync(DeliveryJson.DeserializeDelivery(check), default);
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var notice));

        var marts = await TargetAsync(relay, "marts");
        Assert.Multiple(
            () => Assert.True(notice.Length <= 64 * 1024, $"notice queue message is {notice.Length} bytes"),
            () => Assert.Null(marts.Run!.Url),
            () => Assert.True(marts.Run!.VendorStatus!.Length <= 500, $"stored vendor status is {marts.Run.VendorStatus.Length} chars"));
    }

    [Fact]
    public async Task A_dead_lettered_notice_leaves_the_notified_targets_own_timeline_and_redelivery_alone()
    {
        _vendor.StatusBodies.Enqueue("""{"status":"failed","error":"boom"}""");
        await using var relay = new RelayHarness(Config(routed: "\"crm\", \"alert\""), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync(); // crm started, alert delivered (routed)
        _alert.Script(new ScriptedAnswer(400)); // the notice is refused
        await DrainAsync(relay);
        // The refused notice is listed with the run it was about, and as a dead letter; alert's own delivery stands.
        var notice = Assert.Single((await TargetAsync(relay, "crm")).Notices);
        Assert.Equal(("alert", EventStatus.DeadLettered, "sync_1"), (notice.Notified, notice.Outcome, notice.AboutRun));
        Assert.Equal(EventStatus.Delivered, (await TargetAsync(relay, "alert")).State);
        Assert.Single(relay.Queues.DeadLetters, d => d.Delivery.Notice is not null);

        var answer = await relay.Services.GetRequiredService<DbtRelay.Operations.EventsApi>().RedeliverAsync(EventId, "alert", default);
        await DrainAsync(relay);

        Assert.Equal(202, answer.Status);
        var alert = await TargetAsync(relay, "alert");
        Assert.Equal((EventStatus.Delivered, 3), (alert.State, _alert.Received.Count));
    }

    [Fact]
    public async Task A_check_recorded_before_its_delivery_attempt_keeps_the_runs_end()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        Assert.True(relay.Queues.Events.Reader.TryRead(out var raw));
        var envelope = EventJson.DeserializeEnvelope(raw);
        var history = relay.Services.GetRequiredService<DeliveryHistory>();
        await history.RecordRoutedAsync(envelope, [("crm", RudderStackRetlTarget.TypeName)], [], default);

        // Every = 1s and a slow history write: the first check (on another worker) ends the run before the executor's RecordAsync.
        await history.RecordRunAsync(envelope, "crm", RudderStackRetlTarget.TypeName, new RunRecord("sync_1", DownstreamStates.Failed) { Checks = 1 }, 0, default);
        await history.RecordAttemptAsync(envelope, "crm", RudderStackRetlTarget.TypeName, EventStatus.Delivered,
            new AttemptRecord(1, 0, relay.Time.GetUtcNow(), EventStatus.Delivered, 200, 5, "sync_1", "syncId sync_1"), default, new RunRecord("sync_1", DownstreamStates.Running));

        var timeline = (await history.GetAsync(EventId, default))!;
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed), (timeline.Status, timeline.Targets.Single().Run!.State));
    }

    [Fact]
    public async Task OnConflict_skip_whose_running_sync_lookup_times_out_never_starts_a_sync()
    {
        // 409 to the start, then the list of running syncs answers after the 1 s timeout.
        _rudder.Script(new ScriptedAnswer(409), new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3)));
        await using var relay = new RelayHarness(Config(crmBase: _rudder.ApiBase.ToString(), crmExtra: ", \"onConflict\": \"skip\", \"timeoutSeconds\": 1"), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        // onConflict skip promises "count it delivered": the relay never starts a sync of its own here.
        var crm = await TargetAsync(relay, "crm");
        Assert.Equal((1, EventStatus.Delivered, null), (_rudder.Starts("conn1"), crm.State, crm.Run));
        Assert.Contains("not followed: the list of running syncs did not answer", crm.Attempts.Single().Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_onFailure_call_to_a_followed_target_keeps_that_targets_own_failed_run()
    {
        // marts (dbt, followed) fails on its own; later crm fails and its onFailure triggers marts: marts' failure vanishes.
        _vendor.StatusBodies.Enqueue("""{"status":"running","data":{"status":20,"status_humanized":"Error"}}""");
        _vendor.StatusBodies.Enqueue("""{"status":"running","data":{"status":20,"status_humanized":"Error"}}""");
        _vendor.StatusBodies.Enqueue("""{"status":"failed","data":{"status":20,"status_humanized":"Error"}}""");
        await using var relay = new RelayHarness(Config(routed: "\"crm\", \"marts\"", crmOnFailure: "[\"marts\"]").Replace("\"maxWait\": \"1m\"", "\"maxWait\": \"10m\""), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var marts = await TargetAsync(relay, "marts");
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed), (marts.State, marts.Run?.State));
    }


    [Fact]
    public async Task A_run_superseded_by_a_redelivery_never_overwrites_it()
    {
        _vendor.StatusBodies.Enqueue("""{"status":"running"}""");
        await using var relay = new RelayHarness(Config().Replace("\"maxWait\": \"1m\"", "\"maxWait\": \"10m\""), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync(); // sync_1 followed
        _vendor.StartBody = "{}"; // the redelivery's start answers without a syncId: delivered, not followed
        var answer = await relay.Services.GetRequiredService<DbtRelay.Operations.EventsApi>().RedeliverAsync(EventId, "crm", default);
        await relay.RunDueAsync();
        Assert.Equal((202, EventStatus.Delivered, null), (answer.Status, (await TargetAsync(relay, "crm")).State, (await TargetAsync(relay, "crm")).Run));
        _vendor.StatusBodies.Enqueue("""{"status":"failed","error":"old sync_1"}""");
        await DrainAsync(relay);

        var crm = await TargetAsync(relay, "crm");
        Assert.Equal((EventStatus.Delivered, (string?)null), (crm.State, crm.Run?.Id));
    }

    [Fact]
    public async Task A_check_the_host_gave_up_on_ends_the_run_unknown_and_notifies_instead_of_dead_lettering_the_target()
    {
        _vendor.StatusBodies.Enqueue("""{"status":"succeeded"}""");
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var check));
        // The host failed to handle this check 5 times (storage blip) and gave up on it.
        await relay.Services.GetRequiredService<DeliveryExecutor>().GiveUpAsync(DeliveryJson.DeserializeDelivery(check), "handling it failed 5 times", default);
        await DrainAsync(relay);

        var crm = await TargetAsync(relay, "crm");
        Assert.Equal((EventStatus.Unknown, DownstreamStates.Unknown), (crm.State, crm.Run?.State));
        Assert.Contains("handling it failed 5 times", crm.Run!.Detail, StringComparison.Ordinal);
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Single(_alert.Received);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _vendor.DisposeAsync();
        await _rudder.DisposeAsync();
        await _alert.DisposeAsync();
    }
}
