using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;

namespace DbtRelay.Tests.Targets;

/// <summary>The dbt-cloud-job target against a fake dbt Cloud API: never a second run for one event, even after a timeout.</summary>
public sealed class DbtCloudJobTargetTests : ThreeTargetRelay
{
    [Fact]
    public async Task A_retried_dbt_trigger_for_the_longest_event_id_finds_its_run_by_the_cause_marker()
    {
        await using var relay = new RelayHarness(Config(dbtTimeoutSeconds: 1), Secrets);
        Dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));
        var eventId = "wev_" + new string('L', DbtEventReader.MaxFieldLength - 4);

        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: eventId)));
        await relay.RunDueAsync();
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        var run = Assert.Single(Dbt.Runs).Value;
        Assert.InRange(run.Cause.Length, 1, DbtCloudJobTarget.MaxCauseLength);
        Assert.Contains(DbtCloudJobTarget.CauseMarker(eventId), run.Cause, StringComparison.Ordinal);
        Assert.Equal(1, Dbt.Triggers);
        Assert.Empty(relay.Queues.DeadLetters);
    }

    [Fact]
    public async Task A_dbt_trigger_that_timed_out_after_creating_the_run_is_not_triggered_again()
    {
        await using var relay = new RelayHarness(Config(dbtTimeoutSeconds: 1), Secrets);
        // dbt Cloud creates the run, then answers after our 1 s timeout.
        Dbt.Script(new ScriptedAnswer(200, Delay: TimeSpan.FromSeconds(3), RunNormallyFirst: true));

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_slow"));
        await relay.RunDueAsync();
        Assert.Single(Dbt.Runs);
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        Assert.Single(Dbt.Runs);
        Assert.Equal(1, Dbt.Triggers);
        Assert.Equal(1, Dbt.Calls("GET", "/api/v2/accounts/12345/runs/"));
        Assert.Empty(relay.Queues.DeadLetters);
        Assert.Contains("already started by an earlier attempt", relay.Logs.AllText);
    }

    [Fact]
    public async Task A_dbt_502_with_no_run_created_is_triggered_again_once()
    {
        await using var relay = new RelayHarness(Config(), Secrets);
        Dbt.Script(new ScriptedAnswer(502));

        await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_502"));
        await relay.RunDueAsync();
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        Assert.Single(Dbt.Runs);
        Assert.Equal(2, Dbt.Triggers);
    }
}
