using System.Net;

namespace DbtRelay.Tests.Cli;

/// <summary>serve with the standard OTEL_EXPORTER_OTLP_ENDPOINT set: traces, metrics and logs reach the collector.</summary>
public sealed class ServeOtlpTests : IAsyncLifetime
{
    private const string Secret = "otlp-secret";
    private const string SlackKey = "T0SECRETINPATH";
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-otlp-").FullName;
    private readonly FakeHttpEndpoint _collector = new();
    private readonly FakeHttpEndpoint _sink = new();
    private ServeProcess _serve = null!;

    public async Task InitializeAsync()
    {
        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, $$$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "sink": { "type": "http", "url": "{{{_sink.BaseUrl}}}services/{{secrets.slack-key}}" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["sink"] } ] }
            """);
        _serve = await ServeProcess.StartAsync(config, ["--in-memory"], new Dictionary<string, string>
        {
            ["Secrets__dbt-webhook"] = Secret,
            // A Slack-style webhook whose path is the secret, and the HTTP client's own log lines switched on.
            ["Secrets__slack-key"] = SlackKey,
            ["Logging__LogLevel__System"] = "Information",
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collector.BaseUrl.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_BLRP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["Logging__LogLevel__DbtRelay"] = "Information",
        });
    }

    [Fact]
    public async Task An_events_spans_metrics_and_logs_are_exported_over_otlp_and_a_secret_in_a_target_url_is_in_none()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_otlp"));
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, _serve.Webhook) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(Secret, body));
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        await Eventually.True(() => _sink.Received.Count == 1);
        // OTLP protobuf carries strings as they are: the relay's spans and log records name the event.
        await Eventually.True(() => Exported("/v1/traces", "dbt-relay intake", "dbt-relay route", "dbt-relay deliver sink", "wev_otlp"), TimeSpan.FromSeconds(30));
        await Eventually.True(() => Exported("/v1/logs", "DbtRelay.Delivery.DeliveryExecutor", "wev_otlp"), TimeSpan.FromSeconds(30));
        await Eventually.True(() => Exported("/v1/metrics", "dbtrelay.deliveries", "dbtrelay.delivery.latency"), TimeSpan.FromSeconds(30));

        Assert.Equal($"/services/{SlackKey}", Assert.Single(_sink.Received).PathAndQuery);
        Assert.True(Exported("/v1/traces", _sink.BaseUrl.GetLeftPart(UriPartial.Authority)), "the call's span names the target's origin");
        Assert.DoesNotContain(_collector.Received, r => r.BodyText.Contains(SlackKey, StringComparison.Ordinal));
        Assert.DoesNotContain(SlackKey, _serve.Output, StringComparison.Ordinal);
    }

    private bool Exported(string path, params string[] texts)
    {
        var all = string.Concat(_collector.Received.Where(r => r.PathAndQuery == path).Select(r => r.BodyText));
        return texts.All(text => all.Contains(text, StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _serve.DisposeAsync();
        await _collector.DisposeAsync();
        await _sink.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
