using Azure.Core;
using Azure.Security.KeyVault.Secrets;
using DbtRelay.Config;
using DbtRelay.Delivery;
using DbtRelay.Secrets;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Tests.Secrets;

/// <summary>
/// Secrets served by a fake Key Vault over HTTPS, read with the real SecretClient and a counting credential.
/// </summary>
public sealed class KeyVaultSecretsTests : IAsyncLifetime
{
    private const string WebhookValue = "kv-webhook-secret-v1";
    private const string RotatedValue = "kv-webhook-secret-v2";
    private const string RudderToken = "kv-rudder-token-1";

    private readonly FakeKeyVault _vault = new();
    private readonly FakeRudderStack _rudder = new(RudderToken, "conn-kv");
    private readonly CountingCredential _credential = new();
    private readonly ManualTimeProvider _time = new();
    private readonly LogCapture _logs = new();

    private string Config => $$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook-prod" } ],
          "targets": { "crm-sync": { "type": "rudderstack-retl", "connectionId": "conn-kv", "token": "rudderstack-token", "baseUrl": "{{_rudder.ApiBase}}", "follow": false } },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["crm-sync"] } ] }
        """;

    /// <summary>The relay wired as the hosts wire it, with KeyVault__Uri set and no local secrets at all.</summary>
    private RelayHarness Relay() => new(Config, time: _time,
        settings: new Dictionary<string, string?> { ["KeyVault:Uri"] = FakeKeyVault.VaultUri.ToString() },
        services: s =>
        {
            s.AddSingleton<TokenCredential>(_credential);
            s.AddSingleton(_vault.ClientOptions());
            s.AddLogging(b => b.AddProvider(_logs));
        });

    private CachingSecretStore Store(TimeSpan? ttl = null) => new(
        new KeyVaultSecretSource(new SecretClient(FakeKeyVault.VaultUri, _credential, _vault.ClientOptions())),
        ttl ?? TimeSpan.FromMinutes(5), _time, _logs.For<CachingSecretStore>());

    public Task InitializeAsync()
    {
        _vault.Set("dbt-webhook-prod", WebhookValue);
        _vault.Set("rudderstack-token", RudderToken);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Reads_through_the_bearer_challenge_with_the_managed_identity_and_then_serves_from_cache()
    {
        using var store = Store();

        var first = await store.GetAsync("dbt-webhook-prod", default);
        for (var i = 0; i < 100; i++) Assert.Equal(WebhookValue, await store.GetAsync("dbt-webhook-prod", default));

        Assert.Equal(WebhookValue, first);
        Assert.Equal(1, _vault.ReadsOf("dbt-webhook-prod"));
        // The fake answers only requests bearing the token the identity handed out for the vault's scope.
        Assert.True(_credential.Calls >= 1);
        Assert.Contains("https://vault.azure.net/.default", _credential.Scopes);
    }

    [Fact]
    public async Task Two_re_reads_at_once_after_a_rotation_both_get_the_new_value()
    {
        using var store = Store();
        Assert.Equal(RudderToken, await store.GetAsync("rudderstack-token", default));
        _vault.Set("rudderstack-token", "rotated-token");
        _vault.ReadDelay = TimeSpan.FromMilliseconds(500);

        // Two deliveries got 401 at the same moment: one re-read goes to the vault, the other is within the 30 s.
        var first = store.RefreshAsync("rudderstack-token", default).AsTask();
        await Eventually.True(() => _vault.ReadsOf("rudderstack-token") == 2);
        var second = store.RefreshAsync("rudderstack-token", default).AsTask();

        var values = await Task.WhenAll(first, second);
        Assert.All(values, value => Assert.Equal("rotated-token", value));
        Assert.Equal(2, _vault.ReadsOf("rudderstack-token"));
    }

    [Fact]
    public async Task An_unknown_name_is_absent_not_an_error()
    {
        using var store = Store();

        Assert.Null(await store.GetAsync("no-such-secret", default));
        Assert.Contains("Key Vault secret no-such-secret", store.Describe("no-such-secret"));
    }

    [Fact]
    public async Task Refreshes_each_secret_once_per_TTL_in_the_background()
    {
        using var store = Store(TimeSpan.FromMinutes(5));
        await store.GetAsync("dbt-webhook-prod", default);
        await store.GetAsync("rudderstack-token", default);
        _vault.Set("dbt-webhook-prod", RotatedValue);

        _time.Advance(TimeSpan.FromMinutes(5));
        await Eventually.True(() => _vault.ReadsOf("dbt-webhook-prod") == 2 && _vault.ReadsOf("rudderstack-token") == 2);
        await Eventually.True(async () => await store.GetAsync("dbt-webhook-prod", default) == RotatedValue);
        for (var i = 0; i < 50; i++) await store.GetAsync("dbt-webhook-prod", default);
        _time.Advance(TimeSpan.FromMinutes(4));
        await Task.Delay(100);

        Assert.Equal(2, _vault.ReadsOf("dbt-webhook-prod"));
        Assert.Equal(2, _vault.ReadsOf("rudderstack-token"));
    }

    [Theory]
    [InlineData(503, null)]
    [InlineData(429, 7)]
    public async Task Serves_the_last_good_value_through_an_outage_logs_once_per_round_and_recovers(int status, int? retryAfter)
    {
        using var store = Store(TimeSpan.FromMinutes(5));
        await store.GetAsync("dbt-webhook-prod", default);
        _vault.Outage = (status, retryAfter);

        _time.Advance(TimeSpan.FromMinutes(5));
        await Eventually.True(() => _vault.ReadsOf("dbt-webhook-prod") == 2);
        await Eventually.True(() => _logs.Entries.Any(e => e.Level == LogLevel.Warning));
        for (var i = 0; i < 100; i++) Assert.Equal(WebhookValue, await store.GetAsync("dbt-webhook-prod", default));

        Assert.Equal(2, _vault.ReadsOf("dbt-webhook-prod"));
        Assert.Single(_logs.Entries, e => e.Level == LogLevel.Warning);

        _vault.Outage = null;
        _vault.Set("dbt-webhook-prod", RotatedValue);
        _time.Advance(TimeSpan.FromMinutes(5));
        await Eventually.True(async () => await store.GetAsync("dbt-webhook-prod", default) == RotatedValue);
    }

    [Fact]
    public async Task A_rotated_webhook_secret_is_picked_up_after_a_mismatch_with_one_fetch_under_20_concurrent_requests()
    {
        await using var relay = Relay();
        var intake = relay.Services.GetRequiredService<WebhookIntake>();
        var readsBefore = _vault.ReadsOf("dbt-webhook-prod");
        _vault.Set("dbt-webhook-prod", RotatedValue); // rotated in Key Vault; the relay still caches v1
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());
        var signature = DbtPayloads.Sign(RotatedValue, body);

        var decisions = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () => await intake.DecideAsync(body, signature, default))));

        Assert.All(decisions, d => Assert.IsType<Accepted>(d));
        Assert.Equal(readsBefore + 1, _vault.ReadsOf("dbt-webhook-prod"));
    }

    [Fact]
    public async Task A_wrong_signature_refetches_at_most_once_per_30_seconds()
    {
        await using var relay = Relay();
        var intake = relay.Services.GetRequiredService<WebhookIntake>();
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());
        var readsBefore = _vault.ReadsOf("dbt-webhook-prod");

        for (var i = 0; i < 10; i++) Assert.Equal(401, (await intake.DecideAsync(body, DbtPayloads.Sign("attacker", body), default)).StatusCode);
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(401, (await intake.DecideAsync(body, DbtPayloads.Sign("attacker", body), default)).StatusCode);

        Assert.Equal(readsBefore + 2, _vault.ReadsOf("dbt-webhook-prod"));
    }

    [Fact]
    public async Task Intake_answers_503_while_no_webhook_secret_loads_and_recovers_by_itself()
    {
        _vault.Outage = (503, null);
        await using var relay = Relay();
        var intake = relay.Services.GetRequiredService<WebhookIntake>();
        await ((IHostedService)relay.Services.GetRequiredService<StoredWebhookSecrets>()).StartAsync(default); // host startup
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        Assert.Equal(503, (await intake.DecideAsync(body, DbtPayloads.Sign(WebhookValue, body), default)).StatusCode);

        _vault.Outage = null;
        _time.Advance(StoredWebhookSecrets.ReloadInterval);
        await Eventually.True(() => relay.Services.GetRequiredService<StoredWebhookSecrets>().Current.Count == 1);
        Assert.IsType<Accepted>(await intake.DecideAsync(body, DbtPayloads.Sign(WebhookValue, body), default));
    }

    [Fact]
    public async Task Runs_intake_to_delivery_with_every_secret_served_only_by_the_vault()
    {
        await using var relay = Relay();

        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(), WebhookValue));
        await relay.RunDueAsync();

        Assert.Equal(1, _rudder.Starts("conn-kv"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Equal(1, _vault.ReadsOf("rudderstack-token"));
    }

    [Fact]
    public async Task A_401_from_a_target_refreshes_its_token_once_and_delivers_with_the_rotated_one()
    {
        _vault.Set("rudderstack-token", "stale-token");
        await using var relay = Relay();
        await relay.SendAsync(DbtPayloads.Completed(), WebhookValue);
        await relay.Services.GetRequiredService<ISecretStore>().GetAsync("rudderstack-token", default); // cached: stale
        _vault.Set("rudderstack-token", RudderToken);                                                   // rotated

        await relay.RunDueAsync();

        Assert.Equal(2, _rudder.Starts("conn-kv"));
        Assert.Equal("Bearer " + RudderToken, _rudder.Received.Last().Header("Authorization"));
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task A_token_rotated_just_after_a_re_read_is_retried_once_it_can_be_read_again_not_dead_lettered()
    {
        _vault.Set("rudderstack-token", "stale-token");
        await using var relay = Relay();
        // The first 401 re-reads the vault while it still holds the stale token: that refusal is proof, dead letter.
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_before_rotation"), WebhookValue);
        await relay.RunDueAsync();
        Assert.Equal("wev_before_rotation", Assert.Single(relay.Queues.DeadLetters).Delivery.Event.EventId);

        // Seconds later the vault holds the new token, but re-reads of it are limited to one per 30 s.
        _time.Advance(TimeSpan.FromSeconds(10));
        _vault.Set("rudderstack-token", RudderToken);
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_after_rotation"), WebhookValue);
        await relay.RunDueAsync();

        Assert.Single(relay.Queues.DeadLetters);
        Assert.Contains((QueueNames.Deliveries, "wev_after_rotation"), relay.Queues.Delayed);
        Assert.Contains("re-read less than 30 s ago", relay.Logs.AllText, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(21)); // the retry waits for the re-read window, not the usual backoff
        await relay.RunDueAsync();

        Assert.Single(relay.Queues.DeadLetters);
        Assert.Empty(relay.Queues.Delayed);
        Assert.Equal("Bearer " + RudderToken, _rudder.Received.Last().Header("Authorization"));
        Assert.Equal(1, _rudder.Received.Count(r => r.Header("Authorization") == "Bearer " + RudderToken));
    }

    [Fact]
    public async Task A_vault_that_hangs_makes_a_delivery_wait_for_a_retry_instead_of_outliving_its_lease()
    {
        await using var relay = Relay();
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_hang"), WebhookValue);
        _vault.Unresponsive = true;

        var running = relay.RunDueAsync();
        await Eventually.True(() => _vault.ReadsOf("rudderstack-token") == 1);
        Assert.False(running.IsCompleted);
        // A third of the lease margin (30 s by default): the ledger lease still has the two call timeouts to go.
        _time.Advance(TimeSpan.FromSeconds(10));
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, _rudder.Starts("conn-kv"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains((QueueNames.Deliveries, "wev_hang"), relay.Queues.Delayed);
        Assert.Contains("the secret store did not answer within 10 s", relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_secret_value_reaches_the_logs_even_when_things_fail()
    {
        _vault.Set("rudderstack-token", "stale-token"); // RudderStack will refuse it: 401, refresh, still refused
        await using var relay = Relay();
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());
        await relay.Services.GetRequiredService<WebhookIntake>().DecideAsync(body, DbtPayloads.Sign("attacker", body), default);
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_1"), WebhookValue);
        await relay.RunDueAsync();                                   // dead-lettered: credentials rejected
        _vault.Outage = (503, null);
        _time.Advance(TimeSpan.FromMinutes(5));                      // background refresh fails, stale values serve
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_2"), WebhookValue);
        await relay.RunDueAsync();
        _rudder.Script(new ScriptedAnswer(500));
        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_3"), WebhookValue);
        await relay.RunDueAsync();                                   // retry scheduled

        var everything = _logs.AllText + relay.Logs.AllText + string.Join("\n", relay.Queues.DeadLetters.Select(d => d.Reason));
        Assert.Equal(2, relay.Queues.DeadLetters.Count);
        Assert.Contains("401", everything);
        Assert.Contains("did not land", everything);
        foreach (var secret in new[] { WebhookValue, RudderToken, "stale-token", FakeKeyVault.Token })
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_key_vault_uri_that_is_not_https_is_refused_at_startup()
    {
        var services = new ServiceCollection();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["KeyVault:Uri"] = "http://relay.vault.azure.net/" }).Build();
        services.AddLogging();
        services.AddDbtRelay(configuration, RelayConfigLoader.Load(Config));
        using var provider = services.BuildServiceProvider();

        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<KeyVaultOptions>>().Value);
        Assert.Contains("KeyVault:Uri", ex.Message);
    }

    public async Task DisposeAsync()
    {
        await _vault.DisposeAsync();
        await _rudder.DisposeAsync();
    }
}
