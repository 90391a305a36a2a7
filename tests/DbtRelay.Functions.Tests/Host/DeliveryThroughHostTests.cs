using System.Net;
using DbtRelay.Delivery;
using DbtRelay.History;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>Signed webhooks in, downstream calls out, through the real host: its HTTP pipeline, queue listeners and poison handling.</summary>
[Collection(HostTests.Name)]
public sealed class DeliveryThroughHostTests(HostedRelay relay)
{
    [SkippableFact]
    public async Task Every_target_type_is_called_once_from_one_signed_webhook()
    {
        relay.Require();

        using var answer = await relay.SendAsync("wev_host_all", "100");
        var timeline = await relay.WaitForAsync("wev_host_all", EventStatus.Delivered, targets: 4);
        await relay.SettledAsync();

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        Assert.Equal(1, relay.RudderStack.Starts("conn-all"));
        Assert.Equal(1, relay.Elementary.Calls("POST", "/webhooks/all"));
        Assert.True(relay.Elementary.SignatureChecks.All(valid => valid));
        Assert.Equal(1, relay.Dbt.Calls("POST", "/api/v2/accounts/1/jobs/501/run/"));
        Assert.Contains("wev_host_all", relay.Dbt.Runs.Values.Single(r => r.JobId == 501).Cause, StringComparison.Ordinal);
        Assert.Equal(1, relay.Http.Calls("POST", "/all/wev_host_all"));
        Assert.Equal(["crm-all", "elementary-all", "http-all", "marts-all"], timeline.Targets.Select(t => t.Target).Order());
        Assert.NotNull(timeline.Targets.Single(t => t.Target == "crm-all").Attempts.Single().DownstreamId);
    }

    [SkippableFact]
    public async Task Dbt_sending_one_event_five_times_at_once_calls_each_target_once_even_when_two_routes_name_it()
    {
        relay.Require();

        var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => relay.SendAsync("wev_host_dupes", "200")));
        await relay.WaitForAsync("wev_host_dupes", EventStatus.Delivered, targets: 4);
        await relay.SettledAsync();

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Accepted, a.StatusCode));
        Assert.Equal(1, relay.RudderStack.Starts("conn-dupes"));
        Assert.Equal(1, relay.Elementary.Calls("POST", "/webhooks/dupes"));
        Assert.Equal(1, relay.Dbt.Calls("POST", "/api/v2/accounts/1/jobs/502/run/"));
        Assert.Equal(1, relay.Http.Calls("POST", "/dupes/wev_host_dupes"));
        foreach (var answer in answers) answer.Dispose();
    }

    [SkippableFact]
    public async Task Three_events_within_a_targets_coalesce_window_make_one_call_with_the_latest_events_values()
    {
        relay.Require();
        string[] events = ["wev_host_co1", "wev_host_co2", "wev_host_co3"];

        foreach (var id in events)
        {
            using var answer = await relay.SendAsync(id, "770");
            Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        }
        foreach (var id in events) await relay.WaitForAsync(id, EventStatus.Delivered, targets: 1);
        await relay.SettledAsync();

        Assert.Equal(1, relay.Http.Calls("POST", "/coalesced/"));
        Assert.Equal(1, relay.Http.Calls("POST", "/coalesced/wev_host_co3"));
        var call = (await relay.TimelineAsync("wev_host_co3"))!.Targets.Single().Attempts[^1];
        Assert.Equal(events, call.Covers!.Order(StringComparer.Ordinal));
        Assert.Equal("wev_host_co3", (await relay.TimelineAsync("wev_host_co1"))!.Targets.Single().Attempts[^1].CoveredBy);
    }

    [SkippableFact]
    public async Task A_429_from_dbt_Cloud_holds_every_call_to_that_account_until_its_cooldown_ends_and_no_other_account()
    {
        relay.Require();
        // With a Retry-After (dbt's own 429 has none and means 5 minutes) so the held calls settle within the test.
        relay.LimitedDbt.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(8)));

        using var first = await relay.SendAsync("wev_host_limited_a", "781");
        await Eventually.True(() => relay.LimitedDbt.Triggers == 1, TimeSpan.FromSeconds(30));
        var limitedAt = DateTimeOffset.UtcNow;
        using var second = await relay.SendAsync("wev_host_limited_b", "782");
        using var other = await relay.SendAsync("wev_host_limited_other", "100");
        await relay.WaitForAsync("wev_host_limited_other", EventStatus.Delivered, targets: 4); // account 1 is not held back
        var triggersWhileCooling = relay.LimitedDbt.Triggers;

        var b = (await relay.WaitForAsync("wev_host_limited_b", EventStatus.Delivered, targets: 1)).Targets.Single();
        await relay.WaitForAsync("wev_host_limited_a", EventStatus.Delivered, targets: 1);
        await relay.SettledAsync();

        Assert.Equal(1, triggersWhileCooling);
        // Held, not attempted: one attempt, made after the account's cooldown (8 s from the 429) ended.
        Assert.Equal(1, b.Attempts.Single().Attempt);
        Assert.True(b.Attempts.Single().At >= limitedAt.AddSeconds(7), $"limited-b was called at {b.Attempts.Single().At:O}, the 429 came at {limitedAt:O}");
        Assert.Equal(3, relay.LimitedDbt.Triggers);
    }

    [SkippableFact]
    public async Task A_503_then_a_200_is_delivered_on_the_second_attempt_through_a_delayed_queue_message()
    {
        relay.Require();
        relay.Flaky.Script(new ScriptedAnswer(503));

        using var answer = await relay.SendAsync("wev_host_flaky", "300");
        var timeline = await relay.WaitForAsync("wev_host_flaky", EventStatus.Delivered, targets: 1);
        await relay.SettledAsync();

        var attempts = timeline.Targets.Single().Attempts;
        Assert.Equal([(1, EventStatus.Retrying, 503), (2, EventStatus.Delivered, 200)], attempts.Select(a => (a.Attempt, a.Outcome, a.HttpStatus ?? 0)));
        // Delivery__InitialDelay is 1 s: the second call came from a message made visible no sooner.
        Assert.True(attempts[1].At - attempts[0].At >= TimeSpan.FromSeconds(1), $"{attempts[0].At:O} → {attempts[1].At:O}");
        Assert.Equal(2, relay.Flaky.Calls("POST", "/flaky/wev_host_flaky"));
    }

    [SkippableFact]
    public async Task A_message_the_worker_cannot_read_ends_in_the_poison_queue_after_five_tries_and_nothing_else_stalls()
    {
        relay.Require();
        var poison = relay.Queues.Queue(QueueNames.Deliveries + "-poison");
        await poison.CreateIfNotExistsAsync();
        await poison.ClearMessagesAsync();

        var unreadable = (await relay.Queues.Queue(QueueNames.Deliveries).SendMessageAsync("""{"not":"a delivery"}""")).Value.MessageId;
        using var neighbour = await relay.SendAsync("wev_host_neighbour", "600");
        await relay.WaitForAsync("wev_host_neighbour", EventStatus.Delivered, targets: 1);
        await Eventually.True(async () => (await poison.PeekMessagesAsync()).Value.Length == 1, TimeSpan.FromMinutes(1));
        await relay.SettledAsync();

        var moved = (await poison.ReceiveMessagesAsync()).Value.Single();
        Assert.Equal("""{"not":"a delivery"}""", moved.Body.ToString());
        Assert.Equal(HttpStatusCode.Accepted, neighbour.StatusCode);
        Assert.Equal(1, relay.Http.Calls("POST", "/neighbour/wev_host_neighbour"));
        // host.json's maxDequeueCount: the host handed it to the worker five times, then moved it.
        var tries = relay.Host.Output.Split('\n').Where(l => l.Contains($"MessageId: {unreadable}, DequeueCount: ", StringComparison.Ordinal))
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, @"DequeueCount: (\d+)").Groups[1].Value).Order();
        Assert.Equal(["1", "2", "3", "4", "5"], tries);
    }

    [SkippableFact]
    public async Task Routes_test_any_field_of_the_event_and_the_history_says_which_field_did_not_match()
    {
        relay.Require();

        using var answer = await relay.SendAsync("wev_host_fields", "740");
        var timeline = await relay.WaitForAsync("wev_host_fields", EventStatus.Delivered, targets: 1);
        await relay.SettledAsync();

        Assert.Equal(1, relay.Http.Calls("POST", "/fields/wev_host_fields"));
        Assert.Equal(["fields-staging: data.environmentName 'Production' is not one of [Staging]"], timeline.NotMatched.Where(n => n.StartsWith("fields-", StringComparison.Ordinal)));
    }
}
