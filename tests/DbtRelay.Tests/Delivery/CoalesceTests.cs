using System.Text.Json;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.History;
using DbtRelay.Operations;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>Coalescing per target: events routed to it within its window become one call, made when the window closes.</summary>
public sealed class CoalesceTests : IAsyncLifetime
{
    private readonly FakeHttpEndpoint _erathos = new();
    private readonly FakeHttpEndpoint _slack = new();

    private string Config(string window = "10m") => $$$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "erathos": { "type": "http", "url": "{{{_erathos.BaseUrl}}}jobs/run", "body": { "run": "{{data.runId}}" }, "coalesce": "{{{window}}}" },
            "slack": { "type": "http", "url": "{{{_slack.BaseUrl}}}hook" }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["erathos", "slack"] } ]
        }
        """;

    private static async Task<TargetTimeline> TargetAsync(RelayHarness relay, string eventId, string target = "erathos") =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(eventId, default))!.Targets.Single(t => t.Target == target);

    private static async Task SendAsync(RelayHarness relay, int n)
    {
        await relay.SendAsync(DbtPayloads.Completed(eventId: $"wev_{n}", runId: $"7000000{n}"));
        await relay.RunDueAsync();
    }

    private static string RunSent(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("run").GetString()!;

    [Fact]
    public async Task Events_within_the_window_become_one_call_with_the_latest_events_values_and_each_event_shows_it()
    {
        await using var relay = new RelayHarness(Config());

        await SendAsync(relay, 1);
        relay.Time.Advance(TimeSpan.FromMinutes(3));
        await SendAsync(relay, 2);
        relay.Time.Advance(TimeSpan.FromMinutes(3));
        await SendAsync(relay, 3);

        Assert.Empty(_erathos.Received);
        Assert.Equal(3, _slack.Received.Count); // other targets are not held back
        Assert.Equal((EventStatus.Queued, "coalesced"), ((await TargetAsync(relay, "wev_2")).State, (await TargetAsync(relay, "wev_2")).Attempts.Single().Outcome));

        relay.Time.Advance(TimeSpan.FromMinutes(4));
        await relay.RunDueAsync();

        var call = Assert.Single(_erathos.Received);
        Assert.Equal("70000003", RunSent(call));
        var latest = await TargetAsync(relay, "wev_3");
        Assert.Equal(EventStatus.Delivered, latest.State);
        Assert.Equal(["wev_1", "wev_2", "wev_3"], latest.Attempts[^1].Covers);
        foreach (var earlier in new[] { "wev_1", "wev_2" })
        {
            var timeline = await TargetAsync(relay, earlier);
            Assert.Equal((EventStatus.Delivered, "wev_3", "wev_1"), (timeline.State, timeline.Attempts[^1].CoveredBy, timeline.Attempts[^1].CoalescedIn));
        }

        // The next event opens the next window.
        await SendAsync(relay, 4);
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        await relay.RunDueAsync();
        Assert.Equal(["70000003", "70000004"], _erathos.Received.Select(RunSent));
        Assert.Equal(["wev_4"], (await TargetAsync(relay, "wev_4")).Attempts[^1].Covers);
    }

    [Fact]
    public async Task Copies_of_a_joining_message_and_of_the_closing_message_still_make_one_call_listing_each_event_once()
    {
        await using var relay = new RelayHarness(Config());
        await SendAsync(relay, 1);
        relay.Time.Advance(TimeSpan.FromMinutes(1));
        var accepted = Assert.IsType<DbtRelay.Webhooks.Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_2", runId: "70000002")));
        await relay.RunDueAsync();
        // Two more copies of wev_2's delivery (a queue that hands a message out again).
        var copy = new DeliveryMessage { Target = "erathos", Attempt = 1, FirstQueuedAt = relay.Time.GetUtcNow(), Event = accepted.Envelope };
        await relay.Queues.EnqueueDeliveryAsync(copy, TimeSpan.Zero, default);
        await relay.Queues.EnqueueDeliveryAsync(copy, TimeSpan.Zero, default);
        await relay.RunDueAsync();

        relay.Time.Advance(TimeSpan.FromMinutes(9));
        var closing = copy with { Window = new CoalesceWindow("wev_1", relay.Time.GetUtcNow()) };
        await relay.Queues.EnqueueDeliveryAsync(closing, TimeSpan.Zero, default);
        await relay.RunDueAsync();

        Assert.Single(_erathos.Received);
        Assert.Equal(["wev_1", "wev_2"], (await TargetAsync(relay, "wev_2")).Attempts[^1].Covers);
    }

    [Fact]
    public async Task A_failing_coalesced_call_is_retried_then_dead_lettered_as_one_and_redelivering_any_covered_event_makes_that_call_once()
    {
        _erathos.Script(new ScriptedAnswer(500), new ScriptedAnswer(500));
        await using var relay = new RelayHarness(Config("1m"), settings: new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook"] = RelayHarness.WebhookSecret, ["Delivery:MaxAttempts"] = "2", ["Delivery:Jitter"] = "0",
        });
        await SendAsync(relay, 1);
        await SendAsync(relay, 2);
        for (var i = 0; i < 6; i++)
        {
            if (relay.Time.PendingDelays() is [var next, ..]) relay.Time.Advance(next);
            await relay.RunDueAsync();
        }

        Assert.Equal(2, _erathos.Received.Count);
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Equal(("wev_1", "wev_2"), (dead.Delivery.Window!.Id, dead.Delivery.Event.EventId));
        Assert.Equal(EventStatus.DeadLettered, (await TargetAsync(relay, "wev_1")).State);
        Assert.Equal(EventStatus.DeadLettered, (await TargetAsync(relay, "wev_2")).State);

        var api = relay.Services.GetRequiredService<EventsApi>();
        Assert.Equal(202, (await api.RedeliverAsync("wev_1", "erathos", default)).Status);
        await relay.RunDueAsync();
        Assert.Equal(3, _erathos.Received.Count);
        // The dead letter's replay finds that one call made: the ledger entry is the window's, whichever event asked.
        await relay.Services.GetRequiredService<IDeadLetters>().ReplayAsync(10, null, default);
        await relay.RunDueAsync();

        Assert.Equal(3, _erathos.Received.Count);
        Assert.Equal(EventStatus.Delivered, (await TargetAsync(relay, "wev_2")).State);
        Assert.Equal(EventStatus.Delivered, (await TargetAsync(relay, "wev_1")).State);
    }

    [Fact]
    public async Task A_redelivery_of_one_delivered_event_goes_alone_and_at_once()
    {
        await using var relay = new RelayHarness(Config());
        await SendAsync(relay, 1);
        await SendAsync(relay, 2);
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        await relay.RunDueAsync();
        Assert.Single(_erathos.Received);

        var api = relay.Services.GetRequiredService<EventsApi>();
        Assert.Equal(202, (await api.RedeliverAsync("wev_1", "erathos", default)).Status);
        await relay.RunDueAsync();

        Assert.Equal(["70000002", "70000001"], _erathos.Received.Select(RunSent));
    }

    [Fact]
    public async Task An_event_finding_the_window_full_is_delivered_on_its_own()
    {
        await using var relay = new RelayHarness(Config());
        for (var n = 1; n <= TargetCoalescer.MaxEvents + 1; n++) await SendAsync(relay, n);

        var alone = Assert.Single(_erathos.Received);
        Assert.Equal($"7000000{TargetCoalescer.MaxEvents + 1}", RunSent(alone));
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        await relay.RunDueAsync();
        Assert.Equal(2, _erathos.Received.Count);
        Assert.Equal(TargetCoalescer.MaxEvents, (await TargetAsync(relay, "wev_1")).Attempts[^1].Covers!.Count);
    }

    [Theory]
    [InlineData("\"10x\"", "'10x' is not a duration")]
    [InlineData("\"0s\"", "must be between 1s and 6h")]
    [InlineData("\"7h\"", "must be between 1s and 6h")]
    [InlineData("600", "must be a non-empty string")]
    public void A_bad_window_is_reported_with_its_path(string window, string message)
    {
        var json = $$"""
            {
              "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "erathos": { "type": "http", "url": "https://example.com/run", "coalesce": {{window}} } },
              "routes": [ { "name": "r", "targets": ["erathos"] } ]
            }
            """;
        var error = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(json));
        var problem = Assert.Single(error.Problems);
        Assert.Equal("$.targets.erathos.coalesce", problem.Path);
        Assert.Contains(message, problem.Message, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _erathos.DisposeAsync();
        await _slack.DisposeAsync();
    }
}
