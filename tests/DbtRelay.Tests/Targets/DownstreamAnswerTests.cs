using DbtRelay.Delivery;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Targets;

/// <summary>What a downstream answers is data, never an instruction: a redirect, a huge body, a Retry-After of years.</summary>
public sealed class DownstreamAnswerTests : IAsyncLifetime
{
    private readonly FakeHttpEndpoint _target = new();
    private readonly FakeHttpEndpoint _elsewhere = new();
    private readonly FakeRudderStack _rudder = new("rs-token", "conn-1");

    private string Config => $$$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "hook": { "type": "http", "url": "{{{_target.BaseUrl}}}hook", "headers": { "X-Api-Key": "{{secrets.hook-key}}" },
                      "body": { "run": "{{data.runId}}" } },
            "crm": { "type": "rudderstack-retl", "connectionId": "conn-1", "token": "rudderstack-token", "baseUrl": "{{{_rudder.ApiBase}}}", "follow": false } },
          "routes": [ { "name": "r", "when": {}, "targets": ["hook", "crm"] } ] }
        """;

    private RelayHarness Relay() => new(Config, new Dictionary<string, string?> { ["hook-key"] = "hook-key-value", ["rudderstack-token"] = "rs-token" });

    [Fact]
    public async Task A_redirect_is_not_followed_and_dead_letters_saying_where_it_pointed()
    {
        var location = new UriBuilder(new Uri(_elsewhere.BaseUrl, "collect")) { UserName = "admin", Password = "hunter2" }.Uri;
        _target.Script(new ScriptedAnswer(307) { Location = location });
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Empty(_elsewhere.Received); // neither the body nor X-Api-Key went there
        Assert.Single(_target.Received);
        var dead = Assert.Single(relay.Queues.DeadLetters);
        Assert.Equal("hook", dead.Delivery.Target);
        Assert.Contains("answered 307", dead.Reason, StringComparison.Ordinal);
        Assert.Contains($"to {_elsewhere.BaseUrl.GetLeftPart(UriPartial.Authority)}", dead.Reason, StringComparison.Ordinal);
        Assert.Contains("does not follow redirects", dead.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("/collect", dead.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", dead.Reason + relay.Logs.AllText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_success_with_a_huge_body_is_delivered_without_the_relay_reading_it()
    {
        var huge = new ScriptedAnswer(200) { BodyBytes = 256L << 20 };
        _rudder.Script(huge);
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        var writtenWhenDone = huge.Written;

        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Empty(relay.Queues.Delayed); // delivered, not retried: the sync did start
        Assert.Contains("syncId (not returned)", relay.Logs.AllText, StringComparison.Ordinal);
        Assert.Equal(1, _rudder.Starts("conn-1"));
        // The relay stopped reading at its 1 MiB limit; socket buffers took a little more, never the 256 MiB.
        Assert.InRange(writtenWhenDone, 1L << 20, 64L << 20);
    }

    [Fact]
    public async Task A_retry_after_of_years_waits_the_longest_retry_delay_instead()
    {
        _rudder.Script(new ScriptedAnswer(429, RetryAfter: TimeSpan.FromSeconds(999_999_999)));
        await using var relay = Relay();

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        Assert.Contains((QueueNames.Deliveries, "wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z"), relay.Queues.Delayed);

        relay.Time.Advance(new RetryOptions().MaxDelay + TimeSpan.FromSeconds(1));
        await relay.RunDueAsync();

        Assert.Equal(2, _rudder.Starts("conn-1"));
        Assert.Empty(relay.Queues.Delayed);
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Theory]
    [InlineData(1, 999_999_999.0, 3600.0)] // capped at MaxDelay
    [InlineData(1, 120.0, 120.0)]          // honoured
    [InlineData(1, 1.0, 10.0)]             // never sooner than the backoff
    public void Retry_after_is_honoured_up_to_the_longest_retry_delay(int attempt, double retryAfterSeconds, double expectedSeconds)
    {
        var options = new RetryOptions { Jitter = 0 };

        var delay = options.DelayAfter(attempt, TimeSpan.FromSeconds(retryAfterSeconds), new Random(1));

        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), delay);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _elsewhere.DisposeAsync();
        await _rudder.DisposeAsync();
    }
}
