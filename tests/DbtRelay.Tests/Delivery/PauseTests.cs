using DbtRelay.Delivery;
using DbtRelay.History;
using DbtRelay.Operations;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Delivery;

/// <summary>Pausing a target: by an operator and by the circuit breaker; its deliveries wait, others go on, resume lets them go.</summary>
public sealed class PauseTests : IAsyncLifetime
{
    private const string EventId = "wev_pause";
    private readonly FakeHttpEndpoint _erathos = new();
    private readonly FakeHttpEndpoint _slack = new();

    private string Config => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "erathos": { "type": "http", "url": "{{_erathos.BaseUrl}}jobs/run" },
            "slack": { "type": "http", "url": "{{_slack.BaseUrl}}hook" }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["erathos", "slack"] } ]
        }
        """;

    private static async Task<TargetTimeline> TargetAsync(RelayHarness relay, string target, string eventId = EventId) =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(eventId, default))!.Targets.Single(t => t.Target == target);

    [Fact]
    public async Task A_paused_targets_deliveries_wait_unattempted_while_others_go_and_resume_lets_them_go_as_first_attempts()
    {
        await using var relay = new RelayHarness(Config);
        var api = relay.Services.GetRequiredService<TargetsApi>();
        Assert.Equal(200, (await api.PauseAsync("erathos", "Erathos maintenance until 10:00", default)).Status);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        relay.Time.Advance(TimeSpan.FromMinutes(5));
        await relay.RunDueAsync();

        Assert.Empty(_erathos.Received);
        Assert.Single(_slack.Received);
        Assert.Equal((EventStatus.Queued, 0), ((await TargetAsync(relay, "erathos")).State, (await TargetAsync(relay, "erathos")).Attempts.Count));
        Assert.True(relay.Time.PendingDelays() is [var look] && look <= TargetPauses.Recheck + TimeSpan.FromSeconds(25), "one held delivery, looking again within a tick");
        var listed = Assert.Single(DeliveryJson.DeserializePauses((await api.ListAsync(default)).Body));
        Assert.Equal(("erathos", TargetPauses.ByOperator, "Erathos maintenance until 10:00"), (listed.Target, listed.By, listed.Reason));

        Assert.Equal(200, (await api.ResumeAsync("erathos", default)).Status);
        relay.Time.Advance(TargetPauses.Recheck);
        await relay.RunDueAsync();

        Assert.Single(_erathos.Received);
        var erathos = await TargetAsync(relay, "erathos");
        Assert.Equal((EventStatus.Delivered, 1), (erathos.State, erathos.Attempts.Single().Attempt));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Equal(409, (await api.ResumeAsync("erathos", default)).Status);
        Assert.Equal(404, (await api.PauseAsync("nope", null, default)).Status);
    }

    [Fact]
    public async Task On_resume_held_deliveries_go_in_the_order_they_arrived_even_when_they_arrived_further_apart_than_a_recheck()
    {
        await using var relay = new RelayHarness($$$"""
            {
              "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "erathos": { "type": "http", "url": "{{{_erathos.BaseUrl}}}jobs/run", "body": { "eventId": "{{eventId}}" } } },
              "routes": [ { "name": "r", "targets": ["erathos"] } ]
            }
            """);
        await relay.Services.GetRequiredService<TargetsApi>().PauseAsync("erathos", null, default);
        foreach (var n in new[] { 1, 2, 3, 4 })
        {
            // 20 s apart: a 30-second re-check of each, counted from its own arrival, would bring them back as 1, 3, 2, 4.
            await relay.SendAsync(DbtPayloads.Completed(eventId: $"wev_order_{n}", runId: $"7000000{n}", timestamp: relay.Time.GetUtcNow()));
            await relay.RunDueAsync();
            relay.Time.Advance(TimeSpan.FromSeconds(20));
            await relay.RunDueAsync();
        }
        Assert.Empty(_erathos.Received);

        await relay.Services.GetRequiredService<TargetsApi>().ResumeAsync("erathos", default);
        for (var i = 0; i < 10; i++)
        {
            relay.Time.Advance(TimeSpan.FromSeconds(5));
            await relay.RunDueAsync();
        }

        Assert.Equal(["/jobs/run", "/jobs/run", "/jobs/run", "/jobs/run"], _erathos.Received.Select(r => r.PathAndQuery));
        Assert.Equal(["wev_order_1", "wev_order_2", "wev_order_3", "wev_order_4"],
            _erathos.Received.Select(r => System.Text.Json.JsonDocument.Parse(r.Body).RootElement.GetProperty("eventId").GetString()));
    }

    [Fact]
    public async Task The_circuit_breaker_pauses_a_target_after_n_failed_attempts_in_a_row_and_holds_its_retries()
    {
        _erathos.Script(new ScriptedAnswer(503), new ScriptedAnswer(503), new ScriptedAnswer(503));
        await using var relay = new RelayHarness(Config, settings: new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook"] = RelayHarness.WebhookSecret, ["Delivery:PauseAfterFailures"] = "3", ["Delivery:Jitter"] = "0",
        });

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        for (var i = 0; i < 8; i++)
        {
            await relay.RunDueAsync();
            if (relay.Time.PendingDelays() is [var next, ..]) relay.Time.Advance(next);
        }

        Assert.Equal(3, _erathos.Received.Count);
        var paused = Assert.Single(await relay.Services.GetRequiredService<TargetPauses>().ListAsync(default));
        Assert.Equal(("erathos", TargetPauses.ByBreaker), (paused.Target, paused.By));
        Assert.StartsWith("3 failed attempts in a row; last: ", paused.Reason, StringComparison.Ordinal);
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains(relay.Logs.Entries, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Text.Contains("Target erathos paused by breaker", StringComparison.Ordinal));

        await relay.Services.GetRequiredService<TargetsApi>().ResumeAsync("erathos", default);
        relay.Time.Advance(TimeSpan.FromHours(1));
        await relay.RunDueAsync();

        Assert.Equal(4, _erathos.Received.Count);
        Assert.Equal(EventStatus.Delivered, (await TargetAsync(relay, "erathos")).State);
    }

    [Fact]
    public async Task Without_the_breaker_setting_failures_never_pause_a_target()
    {
        _erathos.Script(Enumerable.Repeat(new ScriptedAnswer(503), 12).ToArray());
        await using var relay = new RelayHarness(Config);

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        for (var i = 0; i < 20; i++)
        {
            await relay.RunDueAsync();
            if (relay.Time.PendingDelays() is [var next, ..]) relay.Time.Advance(next);
        }

        Assert.Empty(await relay.Services.GetRequiredService<TargetPauses>().ListAsync(default));
        Assert.Single(relay.Queues.DeadLetters);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _erathos.DisposeAsync();
        await _slack.DisposeAsync();
    }
}
