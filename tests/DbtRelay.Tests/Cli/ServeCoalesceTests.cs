using System.Net;
using System.Text.Json;
using DbtRelay.History;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// serve as a real process on its embedded database coalesces three events into one call, and is killed while the
/// window is open: after the restart the window still closes, once, with the latest event's values, and
/// <c>dbt-relay trace</c> shows every event the call covered.
/// </summary>
public sealed class ServeCoalesceTests(Xunit.Abstractions.ITestOutputHelper log) : IAsyncLifetime
{
    private const string Secret = "coalesce-secret";
    private const string AdminKey = "admin-key-for-coalesce";
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-coalesce-").FullName;
    private readonly FakeHttpEndpoint _erathos = new();
    private readonly FakeHttpEndpoint _slack = new();
    private readonly HttpClient _http = new();

    private static Dictionary<string, string> Environment => new()
    {
        ["Secrets__dbt-webhook"] = Secret,
        ["Secrets__relay-admin-key"] = AdminKey,
    };

    [Fact]
    public async Task A_window_open_across_a_kill_closes_once_after_the_restart_with_the_latest_events_values()
    {
        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": {
                "erathos": { "type": "http", "url": "{{{_erathos.BaseUrl}}}jobs/run", "body": { "run": "{{data.runId}}" }, "coalesce": "15s" },
                "slack": { "type": "http", "url": "{{{_slack.BaseUrl}}}hook" }
              },
              "routes": [ { "name": "after-run", "when": { "runStatus": ["Success"] }, "targets": ["erathos", "slack"] } ] }
            """);
        var serve = await ServeProcess.StartAsync(config, ["--data", Path.Combine(_folder, "relay.db")], Environment);
        var api = new Uri(serve.Webhook.GetLeftPart(UriPartial.Authority));
        string[] events = ["wev_c1", "wev_c2", "wev_c3"];
        for (var i = 0; i < events.Length; i++) await SendAsync(serve, events[i], $"8000000{i + 1}");
        await Eventually.True(async () =>
        {
            foreach (var id in events)
            {
                if (await TimelineAsync(api, id) is not { } timeline || timeline.Targets.SingleOrDefault(t => t.Target == "erathos") is not { Attempts: [{ Outcome: "coalesced" }] })
                    return false;
            }
            return true;
        }, TimeSpan.FromSeconds(10));
        Assert.Empty(_erathos.Received);
        Assert.Equal(3, _slack.Received.Count);

        await serve.KillAsync();
        await using var restarted = await ServeProcess.StartAsync(config, ["--data", Path.Combine(_folder, "relay.db")], Environment);
        api = new Uri(restarted.Webhook.GetLeftPart(UriPartial.Authority));
        await Eventually.True(() => !_erathos.Received.IsEmpty, TimeSpan.FromSeconds(40));
        await Task.Delay(2000); // room for a second call, were one coming

        var call = Assert.Single(_erathos.Received);
        Assert.Equal("80000003", JsonDocument.Parse(call.Body).RootElement.GetProperty("run").GetString());
        var cli = new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = AdminKey };
        var (exit, latest, error) = await ServeProcess.RunCliAsync(_folder, cli, "trace", "wev_c3", "--url", api.ToString());
        Assert.True(exit == 0, error);
        log.WriteLine(latest);
        Assert.Contains("erathos (http): delivered", latest, StringComparison.Ordinal);
        // Listed in the order they joined, which the pipeline's concurrency decides.
        var covered = Assert.Single(latest.Split('\n'), l => l.Contains("one call for 3 coalesced events: ", StringComparison.Ordinal));
        Assert.Equal(events, covered.Split(": ")[1].Trim().Split(", ").Order(StringComparer.Ordinal));
        var (_, first, _) = await ServeProcess.RunCliAsync(_folder, cli, "trace", "wev_c1", "--url", api.ToString());
        log.WriteLine(first);
        Assert.Contains("coalescing window", first, StringComparison.Ordinal);
        Assert.Contains("made for the coalesced events with wev_c3's values (dbt-relay trace wev_c3)", first, StringComparison.Ordinal);
        Assert.Equal(EventStatus.Delivered, (await TimelineAsync(api, "wev_c2"))!.Status);
    }

    private async Task SendAsync(ServeProcess serve, string eventId, string runId) =>
        Assert.Equal(HttpStatusCode.Accepted, await serve.SendSignedAsync(_http, DbtPayloads.Completed(eventId: eventId, runId: runId), Secret));

    private Task<EventTimeline?> TimelineAsync(Uri api, string eventId) => ServeProcess.TimelineAsync(_http, api, eventId, AdminKey);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _erathos.DisposeAsync();
        await _slack.DisposeAsync();
    }
}
