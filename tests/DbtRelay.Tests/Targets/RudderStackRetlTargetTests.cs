using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Targets;

/// <summary>The rudderstack-retl target against a fake RudderStack Reverse ETL API: conflicts, unknown connections, framing.</summary>
public sealed class RudderStackRetlTargetTests : ThreeTargetRelay
{
    [Fact]
    public async Task An_unknown_connection_is_dead_lettered_as_permanent()
    {
        var config = Config().Replace("\"conn1\"", "\"missing\"", StringComparison.Ordinal);
        await using var relay = new RelayHarness(config, Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Contains(relay.Queues.DeadLetters, d => d.Delivery.Target == "crm-sync" && d.Reason.Contains("404", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_409_with_onConflict_retry_tries_again_later()
    {
        await using var relay = new RelayHarness(Config(onConflict: "retry"), Secrets);
        Rudder.SyncRunning = true;

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();
        Assert.Single(relay.Time.PendingDelays());
        Rudder.SyncRunning = false;
        relay.Time.Advance(relay.Time.PendingDelays()[0]);
        await relay.RunDueAsync();

        Assert.Equal(2, Rudder.Starts("conn1"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("syncId", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_409_with_onConflict_skip_counts_as_delivered()
    {
        await using var relay = new RelayHarness(Config(onConflict: "skip"), Secrets);
        Rudder.SyncRunning = true;

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Equal(1, Rudder.Starts("conn1"));
        Assert.Empty(relay.Time.PendingDelays());
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task The_rudderstack_start_request_is_framed_with_a_content_length_as_in_its_docs()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var start = Assert.Single(Rudder.Received, r => r.Method == "POST");
        Assert.Equal("""{"syncType":"incremental"}""", start.BodyText);
        Assert.Equal(start.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), start.Header("Content-Length"));
        Assert.Null(start.Header("Transfer-Encoding"));
        Assert.StartsWith("application/json", start.Header("Content-Type"), StringComparison.Ordinal);
    }
}
