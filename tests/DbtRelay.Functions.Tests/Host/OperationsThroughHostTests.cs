using System.Net;
using DbtRelay.History;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>Dead letters, the events API and the CLI against the Function App, with the host's function keys.</summary>
[Collection(HostTests.Name)]
public sealed class OperationsThroughHostTests(HostedRelay relay)
{
    [SkippableFact]
    public async Task A_permanent_4xx_is_dead_lettered_listed_and_replayed_through_the_ops_api_with_a_function_key()
    {
        relay.Require();

        using var answer = await relay.SendAsync("wev_host_refused", "400");
        await relay.WaitForAsync("wev_host_refused", EventStatus.DeadLettered, targets: 1);
        using var withoutKey = await relay.OpsAsync(HttpMethod.Get, "ops/dead-letters", key: "");
        using var listed = await relay.OpsAsync(HttpMethod.Get, "ops/dead-letters");
        var list = await listed.Content.ReadAsStringAsync();
        using var unknown = await relay.OpsAsync(HttpMethod.Post, "ops/dead-letters/wev_host_other/refusing/replay");
        using var replayed = await relay.OpsAsync(HttpMethod.Post, "ops/dead-letters/wev_host_refused/refusing/replay");
        await Eventually.True(() => relay.Refusing.Calls("POST", "/refuses/wev_host_refused") == 2, TimeSpan.FromSeconds(30));
        await relay.SettledAsync();

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Contains("\"eventId\":\"wev_host_refused\"", list, StringComparison.Ordinal);
        Assert.Contains("400", list, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("""{"replayed":1}""", await replayed.Content.ReadAsStringAsync());
        // The relay's own line, with the reason, in the host's console (what func start shows)...
        Assert.Contains(relay.Host.Output.Split('\n'), line =>
            line.Contains("Dead-lettered wev_host_refused", StringComparison.Ordinal) && line.Contains("answered 400", StringComparison.Ordinal));
        // ...and in Application Insights, an Error trace whose custom dimensions say which event and target.
        await Eventually.True(() => relay.ApplicationInsights.Traces().Any(t => t.Message.StartsWith("Dead-lettered wev_host_refused", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        var trace = relay.ApplicationInsights.Traces().First(t => t.Message.StartsWith("Dead-lettered wev_host_refused", StringComparison.Ordinal));
        Assert.Equal("Error", trace.Severity);
        Assert.Equal(("wev_host_refused", "refusing", "1", "400"),
            (trace.Properties["EventId"], trace.Properties["Target"], trace.Properties["Attempt"], trace.Properties["JobId"]));
        // The call itself is a dependency that names the target's origin, never its path: a path may hold a secret.
        var origin = relay.Refusing.BaseUrl.GetLeftPart(UriPartial.Authority);
        await Eventually.True(() => relay.ApplicationInsights.Dependencies().Any(d => d.Data.StartsWith(origin, StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(relay.ApplicationInsights.Items, item => item.GetRawText().Contains("/refuses/wev_host_refused", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task The_events_api_shows_the_timeline_and_redelivers_with_a_function_key_and_answers_401_without_one()
    {
        relay.Require();

        using var answer = await relay.SendAsync("wev_host_events", "500");
        await relay.WaitForAsync("wev_host_events", EventStatus.Delivered, targets: 1);
        var routes = new[] { (HttpMethod.Get, "events?jobId=500"), (HttpMethod.Get, "events/wev_host_events"), (HttpMethod.Post, "events/wev_host_events/redeliver?target=ops") };
        var refused = new List<HttpStatusCode>();
        foreach (var (method, route) in routes)
        {
            using var response = await relay.OpsAsync(method, route, key: "");
            refused.Add(response.StatusCode);
        }
        using var listed = await relay.OpsAsync(HttpMethod.Get, "events?jobId=500");
        var page = HistoryJson.DeserializePage(await listed.Content.ReadAsByteArrayAsync());
        using var redelivered = await relay.OpsAsync(HttpMethod.Post, "events/wev_host_events/redeliver?target=ops");
        await Eventually.True(() => relay.Http.Calls("POST", "/ops/wev_host_events") == 2, TimeSpan.FromSeconds(30));
        var timeline = await relay.WaitForAsync("wev_host_events", EventStatus.Delivered, targets: 1);
        using var missing = await relay.OpsAsync(HttpMethod.Get, "events/wev_host_nowhere");

        Assert.All(refused, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.Contains(page.Events, e => e.EventId == "wev_host_events");
        Assert.Equal(HttpStatusCode.Accepted, redelivered.StatusCode);
        Assert.Equal([(0, 1), (1, 1)], timeline.Targets.Single().Attempts.Select(a => (a.Redelivery, a.Attempt)).Order());
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [SkippableFact]
    public async Task The_cli_lists_traces_and_redelivers_against_the_function_app_with_a_function_key()
    {
        relay.Require();
        using var answer = await relay.SendAsync("wev_host_cli", "500");
        await relay.WaitForAsync("wev_host_cli", EventStatus.Delivered, targets: 1);
        var key = new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = relay.Host.FunctionKey };
        var url = relay.Host.BaseUrl.ToString();

        var events = await ServeProcess.RunCliAsync(Path.GetTempPath(), key, "events", "--url", url, "--job", "500");
        var trace = await ServeProcess.RunCliAsync(Path.GetTempPath(), key, "trace", "wev_host_cli", "--url", url);
        var redeliver = await ServeProcess.RunCliAsync(Path.GetTempPath(), key, "redeliver", "wev_host_cli", "--target", "ops", "--url", url);
        var noKey = await ServeProcess.RunCliAsync(Path.GetTempPath(), new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = "" }, "trace", "wev_host_cli", "--url", url);
        await Eventually.True(() => relay.Http.Calls("POST", "/ops/wev_host_cli") == 2, TimeSpan.FromSeconds(30));

        Assert.Equal(0, events.Exit);
        Assert.Contains("wev_host_cli", events.Out, StringComparison.Ordinal);
        Assert.Equal(0, trace.Exit);
        Assert.Contains("ops (http): delivered", trace.Out, StringComparison.Ordinal);
        Assert.Equal(0, redeliver.Exit);
        Assert.NotEqual(0, noKey.Exit);
        Assert.Contains("wants a key", noKey.Err, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_target_paused_through_the_ops_api_holds_its_delivery_until_resumed()
    {
        relay.Require();
        using var paused = await relay.OpsAsync(HttpMethod.Post, "ops/targets/paused-target/pause?reason=maintenance");
        using var listed = await relay.OpsAsync(HttpMethod.Get, "ops/targets");
        using var answer = await relay.SendAsync("wev_host_paused", "760");
        await Eventually.True(async () => await relay.TimelineAsync("wev_host_paused") is { Targets.Count: 1 }, TimeSpan.FromSeconds(30));
        await Task.Delay(2000); // the paused target would have been called by now

        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Contains("\"reason\":\"maintenance\"", await listed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, relay.Http.Calls("POST", "/paused/wev_host_paused"));
        Assert.Equal(EventStatus.Queued, (await relay.TimelineAsync("wev_host_paused"))!.Targets.Single().State);

        using var resumed = await relay.OpsAsync(HttpMethod.Post, "ops/targets/paused-target/resume");
        using var noKey = await relay.OpsAsync(HttpMethod.Post, "ops/targets/paused-target/pause", key: "");
        await relay.WaitForAsync("wev_host_paused", EventStatus.Delivered, targets: 1);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (resumed.StatusCode, noKey.StatusCode));
        Assert.Equal(1, relay.Http.Calls("POST", "/paused/wev_host_paused"));
    }
}
