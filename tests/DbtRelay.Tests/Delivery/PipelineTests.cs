using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>The route → deliver pipeline against fake RudderStack, Elementary and dbt Cloud servers: matching, exactly once, retries, dead letters.</summary>
public sealed class PipelineTests : ThreeTargetRelay
{
    [Fact]
    public async Task A_successful_run_fires_each_matched_target_once_even_when_two_routes_name_it()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1")));
        await relay.RunDueAsync();

        Assert.Equal(1, Rudder.Starts("conn1"));
        Assert.Single(Elementary.SignatureChecks);
        Assert.Equal(1, Dbt.Triggers);
        Assert.Contains(Dbt.Runs.Values, r => r.JobId == 54321 && r.Cause.Contains("wev_1", StringComparison.Ordinal));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("syncId sync_1", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_message_whose_handling_keeps_failing_is_set_aside_after_five_tries_and_the_others_go_on()
    {
        // The loop as serve runs it (PipelineOptions come from the host's configuration).
        await using var relay = new RelayHarness(Config(), Secrets,
            services: s => s.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build()));
        var pipeline = relay.Services.GetRequiredService<DbtRelay.InProcess.LocalPipeline>();
        await pipeline.StartAsync(default);
        var unreadable = """{"not":"a delivery"}"""u8.ToArray();
        relay.Queues.Deliveries.Writer.TryWrite(unreadable);

        for (var failure = 1; failure < DbtRelay.InProcess.LocalPipeline.MaxHandlingFailures; failure++)
        {
            await Eventually.True(() => relay.Time.PendingDelays().Contains(TimeSpan.FromSeconds(30)));
            relay.Time.Advance(TimeSpan.FromSeconds(30));
        }
        await Eventually.True(() => !relay.Queues.Poisoned.IsEmpty);
        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_after_poison")));
        await Eventually.True(() => Rudder.Starts("conn1") == 1);
        await pipeline.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(30)); // the drain is not held up by it

        var (queue, body) = Assert.Single(relay.Queues.Poisoned);
        Assert.Equal(("dbt-deliveries-poison", unreadable), (queue, body));
        Assert.Empty(relay.Queues.Delayed);
        Assert.Equal(4, relay.Logs.AllText.Split('\n').Count(l => l.Contains("failed unexpectedly", StringComparison.Ordinal)));
        Assert.Contains("failed 5 times; it is set aside in dbt-deliveries-poison", relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_claim_held_by_a_lease_that_claims_to_run_for_years_is_looked_at_again_within_one_lease()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        // A ledger entry no relay would write (a corrupt or hostile one): leased for ten years.
        var store = relay.Services.GetRequiredService<IConditionalStore>();
        await store.TryCreateAsync(LedgerKeys.Delivery("wev_busy", "crm-sync"),
            new BinaryData(LedgerEntry.Leased(relay.Time.GetUtcNow().AddYears(10)).ToJson()), default);

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_busy"));
        await relay.RunDueAsync();

        // RudderStack's timeout (30 s) twice plus the 30 s margin, and a second: never the ten years.
        Assert.Contains(TimeSpan.FromSeconds(91), relay.Time.PendingDelays());
        Assert.Equal(0, Rudder.Starts("conn1"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Redelivering_a_dead_lettered_target_and_replaying_its_dead_letter_call_it_once_in_either_order(bool replayFirst)
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Rudder.Script(new ScriptedAnswer(400));
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_fixed"));
        await relay.RunDueAsync();
        Assert.Single(relay.Queues.DeadLetters, d => d.Delivery.Target == "crm-sync");
        var api = relay.Services.GetRequiredService<DbtRelay.Operations.EventsApi>();
        var deadLetters = relay.Services.GetRequiredService<IDeadLetters>();

        // Both queued before either runs (an operator clicking twice, two operators), then the pipeline runs.
        var replayed = replayFirst ? await deadLetters.ReplayAsync(100, null, default) : 0;
        var redelivered = await api.RedeliverAsync("wev_fixed", "crm-sync", default);
        if (!replayFirst) replayed = await deadLetters.ReplayAsync(100, null, default);
        await relay.RunDueAsync();

        Assert.Equal((202, 1), (redelivered.Status, replayed));
        Assert.Equal(2, Rudder.Starts("conn1")); // the refused call, then one more: never one for each request
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task A_delivery_whose_handling_keeps_failing_becomes_a_dead_letter_after_five_tries_with_the_reason_in_its_history()
    {
        await using var relay = new RelayHarness(Config(), Secrets, services: s =>
        {
            s.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
            s.AddSingleton<IDeliveryLedger, UnreachableLedger>(); // the store behind the ledger is down
        });
        var pipeline = relay.Services.GetRequiredService<DbtRelay.InProcess.LocalPipeline>();
        await pipeline.StartAsync(default);
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_store_down"));

        for (var failure = 1; failure < DbtRelay.InProcess.LocalPipeline.MaxHandlingFailures; failure++)
        {
            await Eventually.True(() => relay.Time.PendingDelays().Count(d => d == TimeSpan.FromSeconds(30)) >= 3);
            relay.Time.Advance(TimeSpan.FromSeconds(30));
        }
        await Eventually.True(() => relay.Queues.DeadLetters.Count == 3);
        await pipeline.StopAsync(default).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(relay.Queues.Poisoned);
        Assert.All(relay.Queues.DeadLetters, d => Assert.StartsWith("handling it failed 5 times (InvalidOperationException)", d.Reason, StringComparison.Ordinal));
        var timeline = await relay.Services.GetRequiredService<DbtRelay.History.DeliveryHistory>().GetAsync("wev_store_down", default);
        Assert.All(timeline!.Targets, t => Assert.Equal(DbtRelay.History.EventStatus.DeadLettered, t.State));
        Assert.Equal(0, Rudder.Starts("conn1"));
    }

    /// <summary>Routing's entries work; every delivery's claim throws, as a store that went down between the two would.</summary>
    private sealed class UnreachableLedger(IConditionalStore store, TimeProvider time) : IDeliveryLedger
    {
        private readonly ConditionalLedger _routing = new(store, time);

        public ValueTask<LedgerClaim> TryClaimAsync(string key, TimeSpan lease, CancellationToken cancellationToken) =>
            key.StartsWith("delivered/", StringComparison.Ordinal)
                ? throw new InvalidOperationException("the ledger's store cannot be reached")
                : _routing.TryClaimAsync(key, lease, cancellationToken);

        public ValueTask CompleteAsync(LedgerClaim claim, string detail, CancellationToken cancellationToken) => _routing.CompleteAsync(claim, detail, cancellationToken);

        public ValueTask ReleaseAsync(LedgerClaim claim, CancellationToken cancellationToken) => _routing.ReleaseAsync(claim, cancellationToken);
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

        Assert.Equal(1, Rudder.Starts("conn1"));
        Assert.Single(Elementary.SignatureChecks);
        Assert.Equal(1, Dbt.Triggers);
    }

    [Fact]
    public async Task A_copy_that_arrives_while_the_first_is_being_routed_is_settled_within_seconds()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        var ledger = relay.Services.GetRequiredService<IDeliveryLedger>();
        // The first copy (dbt retried while it was in flight) holds the routing claim on another worker.
        var first = await ledger.TryClaimAsync(LedgerKeys.Routed("wev_busy"), TimeSpan.FromMinutes(2), default);

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_busy"));
        await relay.RunDueAsync();
        Assert.Single(relay.Queues.Delayed); // put back, not dropped

        await ledger.CompleteAsync(first, "crm-sync", default);
        relay.Time.Advance(TimeSpan.FromSeconds(6));
        await relay.RunDueAsync();

        // Looked at again within seconds, not when the two-minute lease would have run out: a duplicate, no call.
        Assert.Empty(relay.Queues.Delayed);
        Assert.Equal(0, Rudder.Starts("conn1"));
    }

    [Fact]
    public async Task A_duplicated_delivery_message_still_calls_the_target_once()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_dup"));
        await relay.RunDueAsync();
        var envelope = DeliveryJson.DeserializeDelivery(DeliveryJson.Serialize(new DeliveryMessage
        {
            Target = "crm-sync", Attempt = 1, FirstQueuedAt = relay.Time.GetUtcNow(),
            Event = new EventEnvelope { EventId = "wev_dup", EventType = "job.run.completed", Webhook = "prod", ReceivedAt = relay.Time.GetUtcNow(), Body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_dup")) },
        }));

        await relay.Queues.EnqueueDeliveryAsync(envelope, TimeSpan.Zero, default); // at-least-once queue redelivery
        await relay.RunDueAsync();

        Assert.Equal(1, Rudder.Starts("conn1"));
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

        Assert.Empty(Rudder.Received);
        Assert.Empty(Elementary.Received);
        Assert.Empty(Dbt.Received);
        Assert.Contains("No route matches", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_started_event_fires_only_the_routes_that_name_it()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(eventType: "job.run.started", runStatus: "Running", statusCode: 3));
        await relay.RunDueAsync();

        Assert.Single(Elementary.Received); // on-start
        Assert.Empty(Rudder.Received);
        Assert.Empty(Dbt.Received);
    }

    [Fact]
    public async Task Another_job_id_fires_nothing()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed(jobId: "999"));
        await relay.RunDueAsync();

        Assert.Empty(Rudder.Received);
        Assert.Empty(Dbt.Received);
    }

    [Fact]
    public async Task Two_500s_then_200_delivers_on_the_third_attempt_after_growing_delays()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Rudder.Script(new ScriptedAnswer(500), new ScriptedAnswer(500));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        var first = Assert.Single(relay.Time.PendingDelays());
        relay.Time.Advance(first);
        await relay.RunDueAsync();
        var second = Assert.Single(relay.Time.PendingDelays());
        relay.Time.Advance(second);
        await relay.RunDueAsync();

        Assert.Equal(3, Rudder.Starts("conn1"));
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
        Rudder.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(70)));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var delay = Assert.Single(relay.Time.PendingDelays());
        Assert.True(delay >= TimeSpan.FromSeconds(70), $"retried after {delay}");
        relay.Time.Advance(TimeSpan.FromSeconds(69));
        await relay.RunDueAsync();
        Assert.Equal(1, Rudder.Starts("conn1"));
        relay.Time.Advance(delay - TimeSpan.FromSeconds(69));
        await relay.RunDueAsync();
        Assert.Equal(2, Rudder.Starts("conn1"));
    }

    [Fact]
    public async Task A_short_Retry_After_never_shortens_the_backoff()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Rudder.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(7)));

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

        Assert.Equal(1, Rudder.Starts("conn1"));
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Equal("crm-sync", dead.Delivery.Target);
        Assert.Equal("wev_401", dead.Delivery.Event.EventId);
        Assert.Contains("401", dead.Reason);
        Assert.Empty(relay.Time.PendingDelays());
        Assert.DoesNotContain("wrong", relay.Logs.AllText.Replace("wrong secret", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retries_stop_at_the_attempt_limit_and_dead_letter_with_the_last_reason()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Rudder.Script(Enumerable.Repeat(new ScriptedAnswer(503), 20).ToArray());

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        var delays = new List<TimeSpan>();
        while (relay.Time.PendingDelays() is [var next, ..])
        {
            delays.Add(next);
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }

        Assert.Equal(new RetryOptions().MaxAttempts, Rudder.Starts("conn1"));
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains("gave up after 12 attempts", dead.Reason);
        Assert.Contains("503", dead.Reason);
        Assert.All(delays, d => Assert.True(d <= TimeSpan.FromHours(1.2)));
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
        Assert.Empty(Dbt.Received);
    }

    [Fact]
    public async Task Replaying_a_dead_letter_delivers_it_once_the_cause_is_fixed()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Rudder.Script(new ScriptedAnswer(403));
        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        Assert.Single(relay.Queues.DeadLetters);

        Assert.Equal(1, await relay.Queues.ReplayAsync(int.MaxValue, null, default));
        await relay.RunDueAsync();

        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Equal(2, Rudder.Starts("conn1"));
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

        Assert.Single(Elementary.SignatureChecks);
    }

    [Fact]
    public async Task Every_call_carries_the_DbtRelay_user_agent()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.All(Rudder.Received.Concat(Dbt.Received).Concat(Elementary.Received),
            r => Assert.StartsWith("DbtRelay/", r.Header("User-Agent"), StringComparison.Ordinal));
    }
}
