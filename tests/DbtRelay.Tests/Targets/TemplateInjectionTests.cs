using System.Text.Json;
using CsCheck;
using DbtRelay.Config;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Targets;

/// <summary>
/// Anyone who can name a dbt job chooses the values that land in a target's URL, headers and body. Whatever they
/// choose, the call goes to the same place with the same shape: properties over generated job names, sent through
/// the relay to a real endpoint and read there as a server reads them.
/// </summary>
public sealed class TemplateInjectionTests : IAsyncLifetime
{
    private const string JobName = "Daily Job (dbt build)"; // in DbtPayloads, replaced by each sample's value
    private readonly FakeHttpEndpoint _endpoint = new();
    private int _events;

    /// <summary>Job names an attacker would try: separators of every syntax, dots, escapes, controls, non-ASCII.</summary>
    private static readonly Gen<string> Hostile = Gen.OneOf<string>(new IGen<string>[]
    {
        Gen.String[Gen.Char["./?#&=%:@;+, \"'\\\r\n\t{}[]<>aZ09é€"], 0, 12],
        Gen.OneOf<string>(".", "..", "%2e%2e", "%2F", "../../admin", "a/../b", "x&admin=true", "\r\nX-Injected: 1", "\"}, \"admin\": true, \"x\": {\"", "?", "#frag", "//evil.example"),
    });

    private static string Config(string target) => $$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": { "t": {{target}} },
          "routes": [ { "name": "r", "when": {}, "targets": ["t"] } ] }
        """;

    private async Task<ReceivedRequest?> SendAsync(RelayHarness relay, string jobName)
    {
        var before = _endpoint.Received.Count;
        var payload = DbtPayloads.Completed(eventId: $"wev_inject_{Interlocked.Increment(ref _events)}")
            .Replace(JobName, JsonEncodedText.Encode(jobName).ToString(), StringComparison.Ordinal);
        await relay.SendAsync(payload);
        await relay.RunDueAsync();
        return _endpoint.Received.Count == before ? null : _endpoint.Received.Last();
    }

    [Fact]
    public async Task No_job_name_changes_the_urls_host_path_segments_or_query_fields()
    {
        await using var relay = new RelayHarness(Config($$$"""{ "type": "http", "url": "{{{_endpoint.BaseUrl}}}a/{{data.jobName}}/b?q={{data.jobName}}&r=1" }"""));

        await Hostile.SampleAsync(async name =>
        {
            var deadBefore = relay.Queues.DeadLetters.Count;
            var request = await SendAsync(relay, name);
            if (name.Split('/', '\\').Any(part => part is "." or ".."))
            {
                // A segment of dots would climb the path, also between slashes a server might decode: refused.
                Assert.Null(request);
                Assert.Contains("path segment", relay.Queues.DeadLetters.Last().Reason, StringComparison.Ordinal);
                Assert.Equal(deadBefore + 1, relay.Queues.DeadLetters.Count);
                return;
            }
            Assert.NotNull(request);
            var (path, query) = (request.RawTarget.Split('?', 2)[0], request.RawTarget.Split('?', 2)[1]);
            var segments = path.Split('/');
            Assert.Equal(4, segments.Length); // "", "a", the name, "b"
            Assert.Equal(("", "a", name, "b"), (segments[0], segments[1], Uri.UnescapeDataString(segments[2]), segments[3]));
            var fields = query.Split('&');
            Assert.Equal(2, fields.Length);
            Assert.Equal(name, Uri.UnescapeDataString(fields[0]["q=".Length..]));
            Assert.Equal("r=1", fields[1]);
        }, iter: 150, threads: 1);
    }

    [Fact]
    public async Task No_job_name_adds_a_field_to_a_json_body()
    {
        await using var relay = new RelayHarness(Config($$$"""
            { "type": "http", "url": "{{{_endpoint.BaseUrl}}}hook", "body": { "job": "{{data.jobName}}", "tags": ["x {{data.jobName}}"], "n": 1 } }
            """));

        await Hostile.SampleAsync(async name =>
        {
            var request = await SendAsync(relay, name);
            using var body = JsonDocument.Parse(request!.Body);
            Assert.Equal(["job", "tags", "n"], body.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(name, body.RootElement.GetProperty("job").GetString());
            Assert.Equal("x " + name, Assert.Single(body.RootElement.GetProperty("tags").EnumerateArray()).GetString());
        }, iter: 150, threads: 1);
    }

    [Fact]
    public async Task No_job_name_adds_a_field_to_a_form_body()
    {
        await using var relay = new RelayHarness(Config($$$"""
            { "type": "http", "url": "{{{_endpoint.BaseUrl}}}hook", "contentType": "application/x-www-form-urlencoded",
              "body": "job={{data.jobName}}&run={{data.runId}}" }
            """));

        await Hostile.SampleAsync(async name =>
        {
            var request = await SendAsync(relay, name);
            Assert.Equal("application/x-www-form-urlencoded", request!.Header("Content-Type"));
            var fields = request.BodyText.Split('&').Select(f => f.Split('=', 2)).ToList();
            Assert.Equal(["job", "run"], fields.Select(f => f[0]));
            Assert.Equal(name, Uri.UnescapeDataString(fields[0][1]));
            Assert.Equal("70000001", fields[1][1]);
        }, iter: 150, threads: 1);
    }

    [Fact]
    public async Task No_job_name_adds_a_header_a_line_break_refuses_the_call()
    {
        await using var relay = new RelayHarness(Config($$$"""
            { "type": "http", "url": "{{{_endpoint.BaseUrl}}}hook", "headers": { "X-Job": "{{data.jobName}}" } }
            """));

        await Hostile.SampleAsync(async name =>
        {
            var request = await SendAsync(relay, name);
            if (name.Any(c => c != '\t' && char.IsControl(c)))
            {
                Assert.Null(request);
                Assert.Contains("header X-Job would contain a line break or another control character", relay.Queues.DeadLetters.Last().Reason, StringComparison.Ordinal);
                return;
            }
            Assert.NotNull(request);
            Assert.DoesNotContain("X-Injected", request.Headers.Keys);
            // Sent as UTF-8; the fake's server reads header bytes as Latin-1, so compare the bytes.
            var received = System.Text.Encoding.Latin1.GetBytes(request.Header("X-Job") ?? "");
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes(name.Trim(' ', '\t')), received);
        }, iter: 150, threads: 1);
    }

    [Theory]
    [InlineData("text/xml", "<job>{{data.jobName}}</job>", "cannot escape values for contentType 'text/xml'")]
    [InlineData("text/plain", """{ "job": "{{data.jobName}}" }""", "is sent as JSON, but contentType is 'text/plain'")]
    public void A_body_whose_values_the_relay_cannot_escape_is_refused_at_startup(string contentType, string body, string message)
    {
        var json = body.StartsWith('{') ? body : JsonSerializer.Serialize(body);
        var problems = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(Config($$$"""
            { "type": "http", "url": "{{{_endpoint.BaseUrl}}}hook", "contentType": "{{{contentType}}}", "body": {{{json}}} }
            """)));

        Assert.Contains(problems.Problems, p => p.Path == "$.targets.t.body" && p.Message.Contains(message, StringComparison.Ordinal));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _endpoint.DisposeAsync();
}
