using Azure.Core;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Targets;

/// <summary>
/// The powerbi-refresh target against fakes of Power BI's REST API and of the managed identity endpoint: a refresh
/// followed to its end, a failed refresh, a refresh already running, the 24-hour limit, throttling, a wrong audience.
/// </summary>
public sealed class PowerBiRefreshTargetTests : IAsyncLifetime
{
    private const string Group = "f089354e-8366-4e18-aea3-4cb4a3a50b48";
    private const string Dataset = "cfafbeb1-8037-4d0c-896e-a46fb27ff229";
    private const string EventId = "wev_powerbi";

    private readonly FakePowerBi _powerBi = new(Group, Dataset);
    private readonly FakeManagedIdentity _identity = new("11111111-2222-3333-4444-555555555555");
    private readonly FakeHttpEndpoint _alert = new();

    private string Config(string follow = """ "follow": { "every": "1m", "maxWait": "2h" }, "onFailure": ["alert"]""") => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "model": { "type": "powerbi-refresh", "groupId": "{{Group}}", "datasetId": "{{Dataset}}", "baseUrl": "{{_powerBi.BaseUrl}}", {{follow}} },
            "alert": { "type": "http", "url": "{{_alert.BaseUrl}}hook", "body": { "text": "{{AlertText}}" } }
          },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["model"] } ]
        }
        """;

    private const string AlertText = "{{downstream.target}} {{downstream.state}}: {{downstream.error}}";

    private RelayHarness Relay(string? config = null) =>
        new(config ?? Config(), services: s => s.AddSingleton<TokenCredential>(new IdentityEndpointCredential(_identity)));

    private static async Task<TargetTimeline> ModelAsync(RelayHarness relay) =>
        (await relay.Services.GetRequiredService<DeliveryHistory>().GetAsync(EventId, default))!.Targets.Single(t => t.Target == "model");

    private static async Task DrainAsync(RelayHarness relay)
    {
        await relay.RunDueAsync();
        for (var i = 0; i < 30 && relay.Time.PendingDelays() is [var next, ..]; i++)
        {
            relay.Time.Advance(next);
            await relay.RunDueAsync();
        }
    }

    [Fact]
    public async Task A_refresh_signed_in_with_the_identity_is_followed_to_completion()
    {
        _powerBi.StatusScript = ["Unknown", "Unknown", "Completed"];
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var model = await ModelAsync(relay);
        Assert.Equal((EventStatus.Succeeded, DownstreamStates.Succeeded, "Completed", 3), (model.State, model.Run!.State, model.Run.VendorStatus, model.Run.Checks));
        Assert.Equal(75_000, model.Run.DurationMs);
        Assert.Equal((1, 1), (_powerBi.Triggers, _powerBi.Refreshes));
        Assert.Equal("""{"notifyOption":"NoNotification"}""", _powerBi.Received.Single(r => r.Method == "POST").BodyText);
        Assert.True(_identity.TokensIssued >= 1);
        Assert.DoesNotContain(FakePowerBi.ExpectedToken, relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failed_refresh_carries_power_bis_error_and_notifies_once()
    {
        _powerBi.StatusScript = ["Unknown", "Failed"];
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var model = await ModelAsync(relay);
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed), (model.State, model.Run!.State));
        Assert.Equal("ModelRefreshFailed_CredentialsNotSpecified: The credentials for the data source are missing.", model.Run.Error);
        Assert.Contains("model failed: ModelRefreshFailed_CredentialsNotSpecified", Assert.Single(_alert.Received).BodyText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refresh_already_running_is_asked_again_after_five_minutes_not_at_once()
    {
        _powerBi.RefreshInProgressAnswers = 1;
        await using var relay = Relay(Config(follow: "\"follow\": false"));

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        Assert.Equal(PowerBiRefreshTarget.RefreshInProgressWait, Assert.Single(relay.Time.PendingDelays()));
        await DrainAsync(relay);

        var model = await ModelAsync(relay);
        Assert.Equal((EventStatus.Delivered, 2, 1), (model.State, _powerBi.Triggers, _powerBi.Refreshes));
        Assert.Contains("already running", model.Attempts[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_24_hour_refresh_limit_is_dead_lettered_with_what_to_do_not_retried()
    {
        _powerBi.DailyLimitReached = true;
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        Assert.Equal(1, _powerBi.Triggers);
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains("limit on refreshes in 24 hours is reached", dead.Reason, StringComparison.Ordinal);
        Assert.Contains("replay the dead letter", dead.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Throttling_waits_its_retry_after()
    {
        _powerBi.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(90)));
        await using var relay = Relay(Config(follow: "\"follow\": false"));

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await relay.RunDueAsync();
        Assert.Equal(TimeSpan.FromSeconds(90), Assert.Single(relay.Time.PendingDelays()));
        await DrainAsync(relay);

        Assert.Equal((EventStatus.Delivered, 1), ((await ModelAsync(relay)).State, _powerBi.Refreshes));
    }

    [Fact]
    public async Task A_token_power_bi_refuses_is_dead_lettered_with_the_workspace_and_tenant_settings_to_check()
    {
        await using var relay = Relay();
        _powerBi.Script(new ScriptedAnswer(403));

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains("403", dead.Reason, StringComparison.Ordinal);
        Assert.Contains("add the app's identity to the workspace", dead.Reason, StringComparison.Ordinal);
        Assert.Equal(0, _powerBi.Refreshes);
    }

    [Fact]
    public async Task An_unknown_semantic_model_is_a_404_dead_letter()
    {
        await using var relay = Relay(Config().Replace(Dataset, "00000000-0000-0000-0000-000000000001", StringComparison.Ordinal));

        await relay.SendAsync(DbtPayloads.Completed(eventId: EventId));
        await DrainAsync(relay);

        Assert.Contains("no semantic model with that datasetId", Assert.Single(relay.Queues.DeadLetters).Reason, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _powerBi.DisposeAsync();
        await _identity.DisposeAsync();
        await _alert.DisposeAsync();
    }
}
