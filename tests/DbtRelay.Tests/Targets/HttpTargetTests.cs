using System.Text.Json;
using DbtRelay.Config;
using DbtRelay.Targets;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Targets;

public sealed class HttpTargetTests : IAsyncLifetime
{
    private readonly FakeHttpEndpoint _erathos = new();

    private static string Config(string target) => $$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "vars": { "workspace": "ws 1/2" },
          "targets": { "erathos": {{target}} },
          "routes": [ { "name": "r", "when": {}, "targets": ["erathos"] } ] }
        """;

    [Fact]
    public async Task Templates_escape_quotes_in_json_bodies_and_ampersands_in_urls()
    {
        var target = $$$"""
            { "type": "http", "method": "POST",
              "url": "{{{_erathos.BaseUrl}}}developers/workspaces/{{vars.workspace}}/jobs?job={{data.jobName}}&run={{data.runId}}",
              "headers": { "Authorization": "{{secrets.erathos-api-key}}", "X-Event": "{{eventId}}" },
              "body": { "cause": "dbt run {{data.runId}} of {{data.jobName}} finished with {{data.runStatus}}", "n": 1, "tags": ["{{eventType}}"] } }
            """;
        await using var relay = new RelayHarness(Config(target), new Dictionary<string, string?> { ["erathos-api-key"] = "raw-key-123" });
        var payload = DbtPayloads.Completed().Replace("Daily Job (dbt build)", "Say \\\"hi\\\" & go", StringComparison.Ordinal); // JSON-escaped in the dbt body

        await relay.SendAsync(payload);
        await relay.RunDueAsync();

        var request = Assert.Single(_erathos.Received);
        Assert.Equal("/developers/workspaces/ws%201%2F2/jobs?job=Say%20%22hi%22%20%26%20go&run=70000001", request.PathAndQuery);
        Assert.Equal("raw-key-123", request.Header("Authorization"));
        Assert.Equal("wev_2L6Z3l8uPedXKPq9D2nWbPIip7Z", request.Header("X-Event"));
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal("dbt run 70000001 of Say \"hi\" & go finished with Success", body.RootElement.GetProperty("cause").GetString());
        Assert.Equal(1, body.RootElement.GetProperty("n").GetInt32());
        Assert.Equal("job.run.completed", body.RootElement.GetProperty("tags")[0].GetString());
    }

    [Fact]
    public async Task Signs_the_exact_body_bytes_when_signing_is_configured()
    {
        var target = $$$"""
            { "type": "http", "url": "{{{_erathos.BaseUrl}}}hook", "body": { "run": "{{data.runId}}" },
              "signing": { "header": "X-Signature", "secret": "hook-secret", "prefix": "sha256=" } }
            """;
        await using var relay = new RelayHarness(Config(target), new Dictionary<string, string?> { ["hook-secret"] = "s3cret" });

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        var request = Assert.Single(_erathos.Received);
        Assert.Equal("sha256=" + DbtPayloads.Sign("s3cret", request.Body), request.Header("X-Signature"));
    }

    [Fact]
    public async Task Honours_configured_success_codes()
    {
        var target = $$"""{ "type": "http", "url": "{{_erathos.BaseUrl}}hook", "successCodes": [202] }""";
        await using var relay = new RelayHarness(Config(target));

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.Contains("not one of the configured successCodes", Assert.Single(relay.Queues.DeadLetters).Reason);
    }

    [Theory]
    [InlineData("https://{{vars.workspace}}.example.com/x")]
    [InlineData("{{vars.workspace}}/x")]
    public void A_template_cannot_choose_the_scheme_or_host(string url)
    {
        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(Config($$"""{ "type": "http", "url": "{{url}}" }""")));

        Assert.Contains(ex.Problems, p => p.Path == "$.targets.erathos.url");
    }

    [Fact]
    public void Credentials_in_a_target_url_are_refused_at_startup_since_its_origin_is_what_logs_name()
    {
        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(Config("""{ "type": "http", "url": "https://svc:pa55@api.example.test/run" }""")));

        var problem = Assert.Single(ex.Problems, p => p.Path == "$.targets.erathos.url");
        Assert.Contains("must not hold credentials", problem.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pa55", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{{data.runId", "does not open")]
    [InlineData("{{vars.nope}}", "does not define")]
    [InlineData("{{whatever}}", "unknown")]
    [InlineData("{{secrets.bad_name!}}", "does not open")]
    public void Rejects_broken_placeholders_at_startup(string text, string message)
    {
        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(Config($$"""{ "type": "http", "url": "https://example.com/x", "body": { "a": "{{text}}" } }""")));

        Assert.Contains(ex.Problems, p => p.Path == "$.targets.erathos.body.a" && p.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_dbt_cause_always_carries_the_event_id_within_255_characters()
    {
        var cause = DbtCloudJobTarget.Cause(new string('x', 400), "wev_abc");

        Assert.Equal(DbtCloudJobTarget.MaxCauseLength, cause.Length);
        Assert.EndsWith("[wev_abc]", cause, StringComparison.Ordinal);
        Assert.Equal("After run 1 (wev_abc)", DbtCloudJobTarget.Cause("After run 1 (wev_abc)", "wev_abc"));
    }

    [Fact]
    public void A_dbt_cause_for_the_longest_event_id_fits_and_carries_a_findable_marker()
    {
        var eventId = "wev_" + new string('z', 252);

        var cause = DbtCloudJobTarget.Cause($"Triggered by {eventId} after marts", eventId);
        var marker = DbtCloudJobTarget.CauseMarker(eventId);

        Assert.InRange(cause.Length, 1, DbtCloudJobTarget.MaxCauseLength);
        Assert.Contains(marker, cause, StringComparison.Ordinal);
        Assert.StartsWith(eventId[..40], marker, StringComparison.Ordinal);
        Assert.NotEqual(marker, DbtCloudJobTarget.CauseMarker(eventId[..^1] + "y"));
        Assert.Equal("wev_short", DbtCloudJobTarget.CauseMarker("wev_short"));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _erathos.DisposeAsync();
}
