using System.Net;
using System.Net.Http.Headers;
using DbtRelay.Cli;
using DbtRelay.Cli.Serve;
using DbtRelay.InProcess;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// <c>dbt-relay serve</c> on a loopback port, driven over real HTTP (and by <c>dbt-relay send</c>), delivering to fake
/// RudderStack and Elementary servers.
/// </summary>
public sealed class ServeEndToEndTests : IAsyncLifetime
{
    // The demo secret shipped in the CLI's appsettings.json, which `send` uses by default.
    private const string DemoSecret = "demo-secret-change-me";
    private const string RudderToken = "rs-e2e-token";
    private const string ElementarySecret = "el-e2e-secret";

    private readonly FakeRudderStack _rudder = new(RudderToken, "conn-e2e");
    private readonly FakeElementary _elementary = new(ElementarySecret);
    private readonly string _configPath = Path.Combine(Path.GetTempPath(), $"relay-e2e-{Guid.NewGuid():N}.json");
    private readonly HttpClient _http = new();
    private WebApplication _app = null!;
    private Uri _webhook = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_configPath, $$"""
            {
              "webhooks": [ { "name": "demo", "secret": "dbt-webhook-demo" }, { "name": "staging", "secret": "dbt-webhook-staging" } ],
              "targets": {
                "crm-sync": { "type": "rudderstack-retl", "connectionId": "conn-e2e", "token": "rudderstack-token", "baseUrl": "{{_rudder.ApiBase}}" },
                "elementary": { "type": "elementary", "url": "{{_elementary.WebhookUrl}}", "secret": "elementary-secret" }
              },
              "routes": [ { "name": "after-success", "when": { "runStatus": ["Success"] }, "targets": ["crm-sync", "elementary"] } ]
            }
            """);
        var error = new StringWriter();
        _app = ServeHost.Build(_configPath, "http://127.0.0.1:0", error, new ServeStore.InMemory(), new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook-demo"] = DemoSecret,
            ["Secrets:dbt-webhook-staging"] = "staging-secret",
            ["Secrets:rudderstack-token"] = RudderToken,
            ["Secrets:elementary-secret"] = ElementarySecret,
            ["Secrets:relay-admin-key"] = "admin-key",
        }) ?? throw new InvalidOperationException(error.ToString());
        Assert.True(await ServeHost.StartAsync(_app, error), error.ToString());
        _webhook = new Uri(ServeHost.Addresses(_app).Single() + RelayCli.WebhookPath);
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body, string? signature)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _webhook) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (signature is not null) request.Headers.TryAddWithoutValidation("Authorization", signature);
        return await _http.SendAsync(request);
    }

    [Fact]
    public async Task Accepts_a_signed_event_over_http_and_fires_the_downstream_syncs()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_e2e_1"));

        using var response = await PostAsync(body, DbtPayloads.Sign(DemoSecret, body));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("""{"eventId":"wev_e2e_1","status":"accepted"}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(43, response.Content.Headers.ContentLength);
        Assert.Null(response.Headers.TransferEncodingChunked);
        await Eventually.True(() => _rudder.Starts("conn-e2e") == 1 && _elementary.SignatureChecks.Count == 1);
        Assert.True(_elementary.SignatureChecks.Single());
    }

    [Fact]
    public async Task Answers_every_intake_status_over_http()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());
        var big = new byte[IntakeOptions.DefaultMaxBodyBytes + 1];
        var notAnEvent = "{\"hello\":1}"u8.ToArray();

        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(body, null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(body, DbtPayloads.Sign("wrong", body))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(body, DbtPayloads.Sign("staging-secret", body).ToUpperInvariant())).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(notAnEvent, DbtPayloads.Sign(DemoSecret, notAnEvent))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(big, DbtPayloads.Sign(DemoSecret, big))).StatusCode);
        using var get = await _http.GetAsync(_webhook);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        Assert.Equal("POST", get.Content.Headers.Allow.Single());
        using var health = await _http.GetAsync(new Uri(_webhook, "/api/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.DoesNotContain("secret", await health.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Dbt_relay_send_signs_exactly_as_dbt_does_and_prints_the_answer()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await RelayCli.Build(output, error)
            .Parse(["send", "--url", _webhook.ToString(), "--event", "succeeded", "--job", "777", "--secret-name", "dbt-webhook-demo"])
            .InvokeAsync();

        Assert.True(exit == 0, error.ToString());
        Assert.StartsWith("202 Accepted", output.ToString(), StringComparison.Ordinal);
        Assert.Contains("\"status\":\"accepted\"", output.ToString());
        await Eventually.True(() => _rudder.Starts("conn-e2e") == 1);
    }

    [Fact]
    public async Task Dbt_relay_send_of_a_failed_run_is_accepted_but_fires_no_success_route()
    {
        var output = new StringWriter();

        var exit = await RelayCli.Build(output, new StringWriter())
            .Parse(["send", "--url", _webhook.ToString(), "--event", "failed", "--secret-name", "dbt-webhook-demo"])
            .InvokeAsync();
        await _app.StopAsync(); // drains

        Assert.Equal(0, exit);
        Assert.Empty(_rudder.Received);
    }

    [Fact]
    public async Task Fifty_events_each_sent_twice_concurrently_start_exactly_fifty_syncs()
    {
        var bodies = Enumerable.Range(0, 50).Select(i => DbtPayloads.Bytes(DbtPayloads.Completed(eventId: $"wev_load_{i}"))).ToList();

        var responses = await Task.WhenAll(bodies.Concat(bodies).Select(b => PostAsync(b, DbtPayloads.Sign(DemoSecret, b))));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        await Eventually.True(() => _rudder.Starts("conn-e2e") >= 50 && _elementary.Received.Count >= 50);
        await _app.StopAsync();
        Assert.Equal(50, _rudder.Starts("conn-e2e"));
        Assert.Equal(50, _elementary.Received.Count);
    }

    [Fact]
    public async Task Stopping_drains_what_was_accepted_before_exiting()
    {
        var bodies = Enumerable.Range(0, 20).Select(i => DbtPayloads.Bytes(DbtPayloads.Completed(eventId: $"wev_drain_{i}"))).ToList();
        foreach (var body in bodies) Assert.Equal(HttpStatusCode.Accepted, (await PostAsync(body, DbtPayloads.Sign(DemoSecret, body))).StatusCode);

        await _app.StopAsync();

        Assert.Equal(20, _rudder.Starts("conn-e2e"));
        Assert.False(await _app.Services.GetRequiredService<IQueueConsumer>().HasDueOrLeasedAsync(default));
    }

    [Theory]
    [MemberData(nameof(MalformedBodies.All), MemberType = typeof(MalformedBodies))]
    public async Task Answers_400_over_http_to_every_malformed_signed_body(string why, string json)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(json);

        using var response = await PostAsync(body, DbtPayloads.Sign(DemoSecret, body));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{why}: {(int)response.StatusCode}");
        Assert.Contains("\"error\":\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepts_a_valid_event_of_exactly_48_KiB_over_http_and_refuses_one_byte_more()
    {
        var head = DbtPayloads.Completed(eventId: "wev_limit")[..^1] + ",\"padding\":\"";
        byte[] Sized(int size) => DbtPayloads.Bytes(head + string.Concat(Enumerable.Repeat("\\\"", (size - head.Length - 2) / 2)) + new string('x', (size - head.Length - 2) % 2) + "\"}");
        var atLimit = Sized(IntakeOptions.DefaultMaxBodyBytes);
        var over = Sized(IntakeOptions.DefaultMaxBodyBytes + 1);

        using var accepted = await PostAsync(atLimit, DbtPayloads.Sign(DemoSecret, atLimit));
        using var refused = await PostAsync(over, DbtPayloads.Sign(DemoSecret, over));

        Assert.Equal((IntakeOptions.DefaultMaxBodyBytes, IntakeOptions.DefaultMaxBodyBytes + 1), (atLimit.Length, over.Length));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        await Eventually.True(() => _rudder.Starts("conn-e2e") == 1);
    }

    [Fact]
    public async Task Dead_letters_can_be_listed_and_replayed_with_the_admin_key()
    {
        _rudder.Script(new ScriptedAnswer(403));
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_dead"));
        await PostAsync(body, DbtPayloads.Sign(DemoSecret, body));
        var queues = _app.Services.GetRequiredService<InMemoryRelayQueues>();
        await Eventually.True(() => !queues.DeadLetters.IsEmpty);
        var list = new Uri(_webhook, "/api/ops/dead-letters");

        Assert.Equal(HttpStatusCode.Unauthorized, (await _http.GetAsync(list)).StatusCode);
        var listed = await (await _http.SendAsync(Ops(HttpMethod.Get, "/api/ops/dead-letters"))).Content.ReadAsStringAsync();
        Assert.Contains("wev_dead", listed);
        Assert.Contains("403", listed);
        Assert.Contains("\"replayed\":1", await (await _http.SendAsync(Ops(HttpMethod.Post, "/api/ops/dead-letters/replay"))).Content.ReadAsStringAsync());
        await Eventually.True(() => _rudder.Starts("conn-e2e") == 2);
    }

    [Fact]
    public async Task One_dead_letter_can_be_replayed_by_event_and_target_leaving_the_others()
    {
        _rudder.Script(new ScriptedAnswer(403), new ScriptedAnswer(403));
        foreach (var eventId in new[] { "wev_one", "wev_two" })
        {
            var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: eventId));
            await PostAsync(body, DbtPayloads.Sign(DemoSecret, body));
        }
        var queues = _app.Services.GetRequiredService<InMemoryRelayQueues>();
        await Eventually.True(() => queues.DeadLetters.Count == 2);
        var target = queues.DeadLetters.First().Delivery.Target;

        var unknown = await _http.SendAsync(Ops(HttpMethod.Post, $"/api/ops/dead-letters/wev_nope/{target}/replay"));
        var one = await _http.SendAsync(Ops(HttpMethod.Post, $"/api/ops/dead-letters/wev_two/{target}/replay"));

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("\"replayed\":1", await one.Content.ReadAsStringAsync());
        await Eventually.True(() => _rudder.Starts("conn-e2e") == 3);
        Assert.Equal("wev_one", Assert.Single(queues.DeadLetters).Delivery.Event.EventId);
    }

    private HttpRequestMessage Ops(HttpMethod method, string path) =>
        new(method, new Uri(_webhook, path)) { Headers = { { "x-relay-admin-key", "admin-key" } } };

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _rudder.DisposeAsync();
        await _elementary.DisposeAsync();
        _http.Dispose();
        File.Delete(_configPath);
    }
}
