using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.History;
using DbtRelay.Operations;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>Coalescing on the paths an attacker or a crash takes: copies of a closing, a closing given up, full windows, redelivery.</summary>
public sealed class CoalesceHostileTests : IAsyncLifetime
{
    private readonly FakeHttpEndpoint _erathos = new();

    private string Config(string window = "10m") => $$$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "erathos": { "type": "http", "url": "{{{_erathos.BaseUrl}}}jobs/run", "body": { "run": "{{data.runId}}" }, "coalesce": "{{{window}}}" }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["erathos"] } ]
        }
        """;

    private static Dictionary<string, string?> Settings(int maxAttempts) => new()
    {
        ["Secrets:dbt-webhook"] = RelayHarness.WebhookSecret, ["Delivery:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Delivery:Jitter"] = "0",
    };

    private static string RunSent(ReceivedRequest request) => JsonDocument.Parse(request.Body).RootElement.GetProperty("run").GetString()!;

    private static async Task<TargetTimeline> TargetAsync(RelayHarness relay, string eventId) =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(eventId, default))!.Targets.Single(t => t.Target == "erathos");

    private static async Task DrainAsync(RelayHarness relay, int steps = 20)
    {
        for (var i = 0; i < steps; i++)
        {
            if (relay.Time.PendingDelays() is [var next, ..]) relay.Time.Advance(next);
            await relay.RunDueAsync();
        }
    }

    // Redelivering a dead-lettered window through a covered (not the latest) event still makes the window's call.
    [Fact]
    public async Task Redelivering_a_dead_lettered_window_via_an_earlier_event_still_uses_the_latest_events_values()
    {
        _erathos.Script(new ScriptedAnswer(500), new ScriptedAnswer(500));
        await using var relay = new RelayHarness(Config("1m"), settings: Settings(2));
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1", runId: "70000001"));
        await relay.RunDueAsync();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_2", runId: "70000002"));
        await relay.RunDueAsync();
        await DrainAsync(relay, 6);
        Assert.Equal(["70000002", "70000002"], _erathos.Received.Select(RunSent));
        Assert.Single(relay.Queues.DeadLetters);

        await relay.Services.GetRequiredService<EventsApi>().RedeliverAsync("wev_1", "erathos", default);
        await relay.RunDueAsync();

        Assert.Equal(3, _erathos.Received.Count);
        Assert.Equal("70000002", RunSent(_erathos.Received.Last())); // README: one call with the LATEST event's values
    }

    // The opener handled again after a crash between queueing the closing and completing its claim queues a second
    // closing: only the closing that closed the window makes its calls, the copy is dropped.
    [Fact]
    public async Task A_second_closing_queued_after_an_openers_crash_makes_no_second_series_of_calls()
    {
        for (var i = 0; i < 10; i++) _erathos.Script(new ScriptedAnswer(500));
        var crashOnce = new CrashingLedger.Switch();
        await using var relay = new RelayHarness(Config(), settings: Settings(2),
            services: s => s.AddSingleton<IDeliveryLedger>(sp => new CrashingLedger(ActivatorUtilities.CreateInstance<ConditionalLedger>(sp), crashOnce)));
        var accepted = Assert.IsType<DbtRelay.Webhooks.Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1", runId: "70000001")));
        crashOnce.Armed = true;
        await Assert.ThrowsAsync<IOException>(relay.RunDueAsync); // worker dies after the closing is queued, before its claim is completed
        // The queue hands wev_1's message out again once the lease is over.
        relay.Time.Advance(TimeSpan.FromMinutes(2));
        await relay.Queues.EnqueueDeliveryAsync(new DeliveryMessage { Target = "erathos", Attempt = 1, FirstQueuedAt = relay.Time.GetUtcNow(), Event = accepted.Envelope },
            TimeSpan.Zero, default);
        await relay.RunDueAsync();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_2", runId: "70000002"));
        await relay.RunDueAsync();

        await DrainAsync(relay);

        // One window, MaxAttempts 2: at most two calls and one dead letter.
        Assert.True(relay.Queues.DeadLetters.Count == 1 && _erathos.Received.Count == 2, $"{relay.Queues.DeadLetters.Count} dead letters, {_erathos.Received.Count} calls");
        Assert.Equal(2, _erathos.Received.Count);
    }

    // A full window's call never carries its events' ids in a message: with 50 ids of 256 characters (escaped six-fold in
    // JSON) its retry still fits a 64 KiB queue message.
    [Fact]
    public async Task The_retry_and_dead_letter_of_a_full_window_fit_a_64_KiB_queue_message()
    {
        _erathos.Script(new ScriptedAnswer(500));
        await using var relay = new RelayHarness(Config(), settings: Settings(2));
        for (var n = 0; n < TargetCoalescer.MaxEvents; n++)
        {
            var id = $"wev_{n:D2}" + new string('\u007f', 256 - 6); // DEL: one byte in the body, six in the queued JSON
            await relay.SendAsync(DbtPayloads.Completed(eventId: id, runId: $"7{n:D7}"));
            await relay.RunDueAsync();
        }
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        await relay.RunDueAsync(); // the closing: one call, answered 500, retry queued
        relay.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var retry));
        Assert.True(retry.Length <= 64 * 1024, $"the coalesced call's retry is {retry.Length} bytes, over Azure's 64 KiB");
    }

    // The same with long ASCII ids and bodies at the 48 KiB limit: the retry and the dead letter fit.
    [Fact]
    public async Task The_retry_of_a_full_window_with_long_ascii_ids_and_a_large_body_fits_a_64_KiB_queue_message()
    {
        _erathos.Script(new ScriptedAnswer(500));
        await using var relay = new RelayHarness(Config(), settings: Settings(2));
        for (var n = 0; n < TargetCoalescer.MaxEvents; n++)
        {
            var id = $"wev_{n:D2}" + new string('a', 256 - 6);
            var body = DbtPayloads.Completed(eventId: id, runId: $"7{n:D7}");
            var padding = DbtRelay.Webhooks.IntakeOptions.DefaultMaxBodyBytes - System.Text.Encoding.UTF8.GetByteCount(body) - "\"pad\": \"\",".Length;
            body = body.Insert(body.IndexOf("\"accountId\"", StringComparison.Ordinal), $"\"pad\": \"{new string('p', padding)}\",");
            Assert.IsType<DbtRelay.Webhooks.Accepted>(await relay.SendAsync(body));
            await relay.RunDueAsync();
        }
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var retry));
        Assert.True(retry.Length <= 64 * 1024, $"the coalesced call's retry is {retry.Length} bytes, over Azure's 64 KiB");
        _erathos.Script(new ScriptedAnswer(500));
        await relay.Queues.EnqueueDeliveryAsync(DeliveryJson.DeserializeDelivery(retry), TimeSpan.Zero, default);
        await relay.RunDueAsync();
        var dead = DeliveryJson.Serialize(Assert.Single(relay.Queues.DeadLetters));
        Assert.True(dead.Length <= 64 * 1024, $"the dead letter is {dead.Length} bytes (retry was {retry.Length})");
    }

    // A closing the host gave up on is the window's call given up: every covered event is dead-lettered and redeliverable.
    [Fact]
    public async Task A_given_up_closing_leaves_the_other_covered_events_dead_lettered_and_redeliverable()
    {
        await using var relay = new RelayHarness(Config());
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1", runId: "70000001"));
        await relay.RunDueAsync();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_2", runId: "70000002"));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.True(relay.Queues.Deliveries.Reader.TryRead(out var raw));
        var closing = DeliveryJson.DeserializeDelivery(raw);
        Assert.NotNull(closing.Window);

        await relay.Services.GetRequiredService<DeliveryExecutor>().GiveUpAsync(closing, "poisoned after 5 tries", default);

        Assert.Equal(EventStatus.DeadLettered, (await TargetAsync(relay, "wev_1")).State);
        var wev2 = (await TargetAsync(relay, "wev_2")).State;
        var redelivery = (await relay.Services.GetRequiredService<EventsApi>().RedeliverAsync("wev_2", "erathos", default)).Status;
        Assert.True(wev2 == EventStatus.DeadLettered && redelivery == 202, $"wev_2 is {wev2}; redelivering it answers {redelivery}");
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _erathos.DisposeAsync();

    private sealed class CrashingLedger(IDeliveryLedger inner, CrashingLedger.Switch crash) : IDeliveryLedger
    {
        public sealed class Switch
        {
            public bool Armed { get; set; }
        }

        public ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken) => inner.TryClaimAsync(key, lease, cancellationToken);

        public ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken)
        {
            if (crash.Armed && detail.StartsWith("coalesced into window", StringComparison.Ordinal))
            {
                crash.Armed = false;
                throw new IOException("worker killed");
            }
            return inner.CompleteAsync(claim, detail, cancellationToken);
        }

        public ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken) => inner.ReleaseAsync(claim, cancellationToken);
    }
}
