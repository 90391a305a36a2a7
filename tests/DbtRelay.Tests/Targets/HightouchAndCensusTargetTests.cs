using System.Text.Json;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Targets;

/// <summary>
/// The hightouch and census targets against fakes written from each vendor's API reference: a sync triggered and
/// followed to its end, a failed run, a refused trigger, rate limiting, and a timeout after the vendor took the call.
/// </summary>
public sealed class HightouchAndCensusTargetTests : IAsyncLifetime
{
    private const string HightouchKey = "ht-key-0123456789";
    private const string CensusToken = "census-token-0123456789";
    private const string EventId = "wev_reverse_etl";
    private const long HightouchSync = 1127166;
    private const long CensusSync = 52;

    private readonly FakeHightouch _hightouch = new(HightouchKey, HightouchSync);
    private readonly FakeCensus _census = new(CensusToken, CensusSync);
    private readonly FakeHttpEndpoint _alert = new();

    private static Dictionary<string, string?> Secrets => new() { ["hightouch-api-key"] = HightouchKey, ["census-api-token"] = CensusToken };

    private const string Followed = """ "follow": { "every": "30s", "maxWait": "1h" }, "onFailure": ["alert"]""";

    private string Config(string type, string extra = "", long? sync = null, string follow = Followed) => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "sync": { {{Target(type, sync)}}, {{follow}}{{extra}} },
            "alert": { "type": "http", "url": "{{_alert.BaseUrl}}hook", "body": { "text": "{{AlertText}}" } }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["sync"] } ]
        }
        """;

    private const string AlertText = "{{downstream.target}} run {{downstream.id}} {{downstream.state}}: {{downstream.error}}";

    private string Target(string type, long? sync) => type == HightouchTarget.TypeName
        ? $$"""  "type": "hightouch", "syncId": {{sync ?? HightouchSync}}, "token": "hightouch-api-key", "baseUrl": "{{_hightouch.BaseUrl}}" """
        : $$"""  "type": "census", "syncId": {{sync ?? CensusSync}}, "token": "census-api-token", "baseUrl": "{{_census.BaseUrl}}" """;

    private void Script(string type, params string[] statuses)
    {
        if (type == HightouchTarget.TypeName) _hightouch.StatusScript = statuses;
        else _census.StatusScript = statuses;
    }

    private int Triggers(string type) => type == HightouchTarget.TypeName ? _hightouch.Triggers(HightouchSync) : _census.Triggers(CensusSync);

    private static async Task<TargetTimeline> SyncAsync(RelayHarness relay) =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!.Targets.Single(t => t.Target == "sync");

    private static async Task DrainAsync(RelayHarness relay)
    {
        await relay.RunDueAsync();
        for (var i = 0; i < 30 && relay.Time.PendingDelays() is [var next, ..]; i++)
        {
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }
    }

    [Theory]
    [InlineData("hightouch", new[] { "queued", "querying", "processing", "success" }, "success", "succeeded added 20, succeeded changed 95")]
    [InlineData("census", new[] { "queued", "working", "working", "completed" }, "completed", "source 15, processed 14, updated 13, failed 1, invalid 1")]
    public async Task A_triggered_sync_is_followed_to_success_with_the_vendors_counts(string type, string[] statuses, string vendorStatus, string counts)
    {
        Script(type, statuses);
        await using var relay = new RelayHarness(Config(type), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var sync = await SyncAsync(relay);
        Assert.Equal((EventStatus.Succeeded, DownstreamStates.Succeeded, vendorStatus, 4), (sync.State, sync.Run!.State, sync.Run.VendorStatus, sync.Run.Checks));
        Assert.StartsWith(counts, string.Join(", ", sync.Run.Counts!.Select(c => $"{c.Key} {c.Value}")), StringComparison.Ordinal);
        Assert.NotNull(sync.Run.DurationMs);
        Assert.Equal(1, Triggers(type));
        Assert.Empty(_alert.Received);
    }

    [Theory]
    [InlineData("hightouch", "Salesforce rejected the batch: INVALID_FIELD Email__c")]
    [InlineData("census", "The array field being used does not appear to be valid JSON")]
    public async Task A_failed_run_fails_the_event_and_notifies_once_with_the_vendors_error(string type, string error)
    {
        Script(type, "failed");
        await using var relay = new RelayHarness(Config(type), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var sync = await SyncAsync(relay);
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed, error), (sync.State, sync.Run!.State, sync.Run.Error));
        using var notice = JsonDocument.Parse(Assert.Single(_alert.Received).Body);
        Assert.Equal($"sync run {sync.Run.Id} failed: {error}", notice.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_census_run_skipped_because_an_earlier_one_still_ran_counts_as_cancelled_and_says_why()
    {
        Script("census", "skipped");
        await using var relay = new RelayHarness(Config("census"), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var sync = await SyncAsync(relay);
        Assert.Equal((EventStatus.Failed, DownstreamStates.Cancelled, "skipped"), (sync.State, sync.Run!.State, sync.Run.VendorStatus));
        Assert.Contains("earlier run of this sync was still running", sync.Run.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hightouch", "wrong-key", null, "401")]
    [InlineData("census", "wrong-token", null, "401")]
    [InlineData("hightouch", null, 999L, "404")]
    [InlineData("census", null, 999L, "404")]
    public async Task A_refused_trigger_is_dead_lettered_after_one_attempt_with_the_reason(string type, string? token, long? sync, string status)
    {
        var secrets = Secrets;
        if (token is not null) secrets[type == "hightouch" ? "hightouch-api-key" : "census-api-token"] = token;
        await using var relay = new RelayHarness(Config(type, sync: sync), secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains(status, dead.Reason, StringComparison.Ordinal);
        Assert.Equal((EventStatus.DeadLettered, null), ((await SyncAsync(relay)).State, (await SyncAsync(relay)).Run));
        Assert.DoesNotContain(token ?? HightouchKey, relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hightouch")]
    [InlineData("census")]
    public async Task A_429_waits_its_retry_after_then_triggers_once(string type)
    {
        FakeApi fake = type == "hightouch" ? _hightouch : _census;
        fake.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(120)));
        await using var relay = new RelayHarness(Config(type, follow: "\"follow\": false"), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        Assert.Equal(TimeSpan.FromSeconds(120), Assert.Single(relay.Time.PendingDelays()));
        await DrainAsync(relay);

        // Two calls, one run: the 429 started nothing.
        Assert.Equal((EventStatus.Delivered, 2, 1), ((await SyncAsync(relay)).State, Triggers(type), type == "hightouch" ? _hightouch.Runs.Count : _census.Runs.Count));
        Assert.Equal([429, 200], (await SyncAsync(relay)).Attempts.Select(a => a.HttpStatus ?? 0));
    }

    [Theory]
    [InlineData("hightouch")]
    [InlineData("census")]
    public async Task A_timeout_after_the_vendor_took_the_trigger_triggers_again_as_documented(string type)
    {
        // Neither API names the run a trigger started except in its answer, so a lost answer is retried: the second
        // run of the same sync finds the rows the first already sent (README: "Hightouch and Census").
        FakeApi fake = type == "hightouch" ? _hightouch : _census;
        fake.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));
        await using var relay = new RelayHarness(Config(type, ", \"timeoutSeconds\": 1"), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var sync = await SyncAsync(relay);
        Assert.Equal(2, Triggers(type));
        Assert.Equal(2, type == "hightouch" ? _hightouch.Runs.Count : _census.Runs.Count);
        Assert.Equal(EventStatus.Succeeded, sync.State);
        Assert.Contains("did not answer within the timeout", sync.Attempts[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Full_resync_options_reach_each_vendor_as_documented()
    {
        await using var hightouch = new RelayHarness(Config("hightouch", ", \"fullResync\": true"), Secrets);
        await hightouch.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await hightouch.RunDueAsync();
        await using var census = new RelayHarness(Config("census", ", \"forceFullSync\": true"), Secrets);
        await census.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await census.RunDueAsync();

        Assert.Equal([(HightouchSync, true)], _hightouch.Runs);
        Assert.Equal("""{"fullResync":true}""", _hightouch.Received.Single(r => r.Method == "POST").BodyText);
        Assert.Equal([(CensusSync, true)], _census.Runs);
        Assert.EndsWith("/trigger?force_full_sync=true", _census.Received.Single(r => r.Method == "POST").PathAndQuery, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _hightouch.DisposeAsync();
        await _census.DisposeAsync();
        await _alert.DisposeAsync();
    }
}
