using System.Net;
using DbtRelay.History;
using DbtRelay.Targets;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>The follow stage through the real host: each status check is a delayed Azure Storage queue message.</summary>
[Collection(HostTests.Name)]
public sealed class FollowThroughHostTests(HostedRelay relay)
{
    [SkippableFact]
    public async Task A_failed_sync_and_a_succeeded_dbt_run_are_followed_to_their_end_and_the_failure_notifies_once()
    {
        relay.Require();
        relay.RudderStack.StatusScript = ["running", "failed"];
        relay.Dbt.StatusScript = [1, 3, 10];

        using var answer = await relay.SendAsync("wev_host_follow", "710");
        EventTimeline? timeline = null;
        await Eventually.True(async () => (timeline = await relay.TimelineAsync("wev_host_follow")) is { } t
            && t.Targets.Count == 2 && t.Targets.Single(x => x.Target == "marts-follow").State == EventStatus.Succeeded
            && t.Targets.Single(x => x.Target == "crm-follow").Notices.Count == 1, TimeSpan.FromMinutes(1));
        await relay.SettledAsync();

        Assert.Equal(HttpStatusCode.Accepted, answer.StatusCode);
        Assert.Equal(EventStatus.Failed, timeline!.Status);
        var crm = timeline.Targets.Single(t => t.Target == "crm-follow");
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed, 2), (crm.State, crm.Run!.State, crm.Run.Checks));
        Assert.Equal(3, crm.Run.Counts!["failed"]);
        var marts = timeline.Targets.Single(t => t.Target == "marts-follow");
        Assert.Equal((DownstreamStates.Succeeded, "Success", 3), (marts.Run!.State, marts.Run.VendorStatus, marts.Run.Checks));
        Assert.Equal(("notify", EventStatus.Delivered), (crm.Notices.Single().Notified, crm.Notices.Single().Outcome));
        var notice = Assert.Single(relay.Http.Received, r => r.PathAndQuery == "/notify/wev_host_follow");
        Assert.Contains($"crm-follow failed: {relay.RudderStack.FailureText}", notice.BodyText, StringComparison.Ordinal);
        Assert.Equal(1, relay.RudderStack.Starts("conn-follow"));
        Assert.Equal(1, relay.Dbt.Calls("POST", "/api/v2/accounts/1/jobs/503/run/"));

        // The failure reaches Application Insights as an error, and the CLI's trace shows both runs' ends.
        await Eventually.True(() => relay.ApplicationInsights.Traces().Any(t => t.Message.StartsWith("crm-follow's run sync_", StringComparison.Ordinal)
            && t.Severity == "Error" && t.Message.Contains("wev_host_follow", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        var trace = await ServeProcess.RunCliAsync(Path.GetTempPath(), new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = relay.Host.FunctionKey },
            "trace", "wev_host_follow", "--url", relay.Host.BaseUrl.ToString());
        Assert.Equal(0, trace.Exit);
        Assert.Contains("records: succeeded 7, failed 3, changed 10, total 10", trace.Out, StringComparison.Ordinal);
        Assert.Matches(@"downstream run \d+: succeeded \(Success\) in 2 min 5 s, 3 status checks", trace.Out);
    }

    [SkippableFact]
    public async Task A_hightouch_run_and_a_census_run_are_followed_to_their_end_through_delayed_queue_messages()
    {
        relay.Require();
        relay.Hightouch.StatusScript = ["queued", "processing", "success"];
        relay.Census.StatusScript = ["working", "failed"];

        using var answer = await relay.SendAsync("wev_host_reverse_etl", "720");
        EventTimeline? timeline = null;
        await Eventually.True(async () => (timeline = await relay.TimelineAsync("wev_host_reverse_etl")) is { } t
            && t.Targets.Count == 2 && t.Targets.All(x => x.State is EventStatus.Succeeded or EventStatus.Failed)
            && t.Targets.Single(x => x.Target == "census-follow").Notices.Count == 1, TimeSpan.FromMinutes(1));
        await relay.SettledAsync();

        var hightouch = timeline!.Targets.Single(t => t.Target == "hightouch-follow");
        Assert.Equal((EventStatus.Succeeded, "success", 3), (hightouch.State, hightouch.Run!.VendorStatus, hightouch.Run.Checks));
        Assert.Equal(20, hightouch.Run.Counts!["succeeded added"]);
        var census = timeline.Targets.Single(t => t.Target == "census-follow");
        Assert.Equal((EventStatus.Failed, DownstreamStates.Failed, relay.Census.FailureText), (census.State, census.Run!.State, census.Run.Error));
        Assert.Single(relay.Http.Received, r => r.PathAndQuery == "/notify/wev_host_reverse_etl");
        Assert.Equal((1, 1), (relay.Hightouch.Runs.Count, relay.Census.Runs.Count));
        var trace = await ServeProcess.RunCliAsync(Path.GetTempPath(), new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = relay.Host.FunctionKey },
            "trace", "wev_host_reverse_etl", "--url", relay.Host.BaseUrl.ToString());
        Assert.Contains("census-follow (census): failed", trace.Out, StringComparison.Ordinal);
        Assert.Contains("hightouch-follow (hightouch): succeeded", trace.Out, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_power_bi_refresh_signed_in_as_the_function_apps_managed_identity_is_followed_to_its_end()
    {
        relay.Require();
        relay.PowerBi.StatusScript = ["Unknown", "Failed"];

        using var answer = await relay.SendAsync("wev_host_powerbi", "730");
        EventTimeline? timeline = null;
        await Eventually.True(async () => (timeline = await relay.TimelineAsync("wev_host_powerbi")) is { Status: EventStatus.Failed } t
            && t.Targets.Single().Notices.Count == 1, TimeSpan.FromMinutes(1));
        await relay.SettledAsync();

        var model = timeline!.Targets.Single();
        Assert.Equal((DownstreamStates.Failed, "Failed", 2), (model.Run!.State, model.Run.VendorStatus, model.Run.Checks));
        Assert.Equal("ModelRefreshFailed_CredentialsNotSpecified: The credentials for the data source are missing.", model.Run.Error);
        Assert.Equal(1, relay.PowerBi.Refreshes);
        // Azure.Identity in the worker found the identity endpoint through the platform's variables and asked for Power BI's audience.
        Assert.Contains(relay.Identity.Received, r => r.PathAndQuery.Contains("resource=https://analysis.windows.net/powerbi/api", StringComparison.Ordinal));
    }
}
