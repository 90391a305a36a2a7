using System.Diagnostics;
using DbtRelay.Telemetry;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DbtRelay.Tests.Telemetry;

/// <summary>Nothing else runs while these count: the relay's instruments are process-wide, like any Meter.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryTests
{
    public const string Name = "Telemetry";
}

/// <summary>
/// One event's whole path through in-memory OpenTelemetry exporters: the counters and histograms it moves, and one
/// trace holding intake, routing and every delivery attempt (a delivery, a retry, a dead letter).
/// </summary>
[Collection(TelemetryTests.Name)]
public sealed class RelayTelemetryTests : IAsyncDisposable
{
    private readonly FakeHttpEndpoint _crm = new();
    private readonly FakeHttpEndpoint _erathos = new();
    private readonly List<Metric> _metrics = [];
    private readonly List<Activity> _spans = [];
    private readonly MeterProvider _meters;
    private readonly TracerProvider _tracer;

    public RelayTelemetryTests()
    {
        _meters = Sdk.CreateMeterProviderBuilder().AddMeter(RelayTelemetry.Name).AddInMemoryExporter(_metrics).Build()!;
        _tracer = Sdk.CreateTracerProviderBuilder().AddSource(RelayTelemetry.Name).AddInMemoryExporter(_spans).Build()!;
    }

    private string Config => $$$"""
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm": { "type": "http", "url": "{{{_crm.BaseUrl}}}sync" },
            "erathos": { "type": "http", "url": "{{{_erathos.BaseUrl}}}jobs" } },
          "routes": [ { "name": "all", "when": {}, "targets": ["crm", "erathos"] } ] }
        """;

    private long Sum(string name, params (string Key, string Value)[] tags)
    {
        Export();
        return _metrics.Where(m => m.Name == name).SelectMany(Points)
            .Where(p => tags.All(t => Tags(p).Any(kv => kv.Key == t.Key && Equals(kv.Value?.ToString(), t.Value))))
            .Sum(p => p.GetSumLong());
    }

    private long HistogramCount(string name)
    {
        Export();
        return _metrics.Where(m => m.Name == name).SelectMany(Points).Sum(p => p.GetHistogramCount());
    }

    /// <summary>Totals are cumulative, so each export replaces the last one rather than adding to it.</summary>
    private void Export()
    {
        _metrics.Clear();
        _meters.ForceFlush();
    }

    private static IEnumerable<MetricPoint> Points(Metric metric)
    {
        foreach (ref readonly var point in metric.GetMetricPoints()) yield return point;
    }

    private static List<KeyValuePair<string, object?>> Tags(MetricPoint point)
    {
        var tags = new List<KeyValuePair<string, object?>>();
        foreach (var tag in point.Tags) tags.Add(tag);
        return tags;
    }

    [Fact]
    public async Task One_events_path_moves_the_counters_and_histograms_and_forms_one_trace()
    {
        await using var relay = new RelayHarness(Config);
        _erathos.Script(new ScriptedAnswer(503), new ScriptedAnswer(400));

        Assert.IsType<Rejected>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_bad"), secret: "not-the-secret"));
        Assert.IsType<Accepted>(await relay.SendAsync(DbtPayloads.Completed(eventId: "wev_otel", runId: "4242")));
        await relay.RunDueAsync();
        relay.Time.Advance(Assert.Single(relay.Time.PendingDelays()));
        await relay.RunDueAsync();

        Assert.Equal(1, Sum("dbtrelay.events.accepted", ("webhook", "prod")));
        Assert.Equal(1, Sum("dbtrelay.events.rejected", ("reason", "invalid_signature")));
        Assert.Equal(1, Sum("dbtrelay.events.routed", ("result", "fanned_out")));
        Assert.Equal(1, Sum("dbtrelay.deliveries", ("target", "crm"), ("target_type", "http"), ("outcome", "delivered")));
        Assert.Equal(1, Sum("dbtrelay.deliveries", ("target", "erathos"), ("outcome", "retried")));
        Assert.Equal(1, Sum("dbtrelay.deliveries", ("target", "erathos"), ("outcome", "dead_lettered")));
        Assert.Equal(0, Sum("dbtrelay.deliveries", ("target", "erathos"), ("outcome", "delivered")));
        Assert.Equal(2, HistogramCount("dbtrelay.intake.duration"));
        Assert.Equal(1, HistogramCount("dbtrelay.delivery.latency"));

        var intake = Assert.Single(_spans, s => s.DisplayName == "dbt-relay intake" && (string?)s.GetTagItem(TelemetryTags.EventId) == "wev_otel");
        var trace = _spans.Where(s => s.TraceId == intake.TraceId).ToList();
        var route = Assert.Single(trace, s => s.DisplayName == "dbt-relay route");
        Assert.Equal(intake.SpanId, route.ParentSpanId);
        var deliveries = trace.Where(s => s.DisplayName.StartsWith("dbt-relay deliver", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, deliveries.Count); // crm once, erathos twice (a retry, then the dead letter)
        Assert.All(deliveries, d =>
        {
            Assert.Equal(route.SpanId, d.ParentSpanId);
            Assert.Equal(("wev_otel", "4242", "123"), ((string?)d.GetTagItem(TelemetryTags.EventId), (string?)d.GetTagItem(TelemetryTags.RunId), (string?)d.GetTagItem(TelemetryTags.JobId)));
        });
        var erathos = deliveries.Where(d => (string?)d.GetTagItem(TelemetryTags.Target) == "erathos").OrderBy(d => d.GetTagItem(TelemetryTags.Attempt)).ToList();
        Assert.Equal([("retried", 503), ("dead_lettered", 400)], erathos.Select(d => ((string)d.GetTagItem(TelemetryTags.Outcome)!, (int)d.GetTagItem("http.response.status_code")!)));
        Assert.All(erathos, d => Assert.Equal(ActivityStatusCode.Error, d.Status));
        Assert.Equal(ActivityStatusCode.Unset, deliveries.Single(d => (string?)d.GetTagItem(TelemetryTags.Target) == "crm").Status);
    }

    public async ValueTask DisposeAsync()
    {
        _meters.Dispose();
        _tracer.Dispose();
        await _crm.DisposeAsync();
        await _erathos.DisposeAsync();
    }
}
