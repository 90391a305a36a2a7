using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DbtRelay.Telemetry;

/// <summary>
/// The relay's OpenTelemetry signals, under one name for both (<see cref="Name"/>): hosts subscribe with
/// <c>AddMeter(RelayTelemetry.Name)</c> and <c>AddSource(RelayTelemetry.Name)</c>. One trace per event: intake, then
/// route, then each delivery attempt, linked through the <c>traceparent</c> the queue messages carry. Instruments cost
/// next to nothing until something listens.
/// </summary>
public static class RelayTelemetry
{
    public const string Name = "DbtRelay";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    /// <summary>Events that passed the signature and payload checks. Tag: <c>webhook</c>.</summary>
    public static readonly Counter<long> Accepted = Meter.CreateCounter<long>("dbtrelay.events.accepted", "{event}", "Webhook events accepted");

    /// <summary>Requests refused at intake. Tag: <c>reason</c> (invalid_signature, payload_too_large, method_not_allowed, …).</summary>
    public static readonly Counter<long> Rejected = Meter.CreateCounter<long>("dbtrelay.events.rejected", "{request}", "Webhook requests refused at intake");

    /// <summary>Routing outcomes. Tag: <c>result</c> (fanned_out, no_match, duplicate).</summary>
    public static readonly Counter<long> Routed = Meter.CreateCounter<long>("dbtrelay.events.routed", "{event}", "Events routed");

    /// <summary>Delivery attempts by outcome. Tags: <c>target</c>, <c>target_type</c>, <c>outcome</c> (delivered, retried, dead_lettered).</summary>
    public static readonly Counter<long> Deliveries = Meter.CreateCounter<long>("dbtrelay.deliveries", "{attempt}", "Delivery attempts by outcome");

    /// <summary>
    /// Followed downstream runs by how they ended. Tags: <c>target</c>, <c>target_type</c>, <c>result</c> (succeeded,
    /// failed, cancelled, timed_out, unknown).
    /// </summary>
    public static readonly Counter<long> DownstreamRuns = Meter.CreateCounter<long>("dbtrelay.downstream.runs", "{run}", "Followed downstream runs by result");

    /// <summary>A followed run's duration (the vendor's start to finish, else the relay's). Tags as <see cref="DownstreamRuns"/>.</summary>
    public static readonly Histogram<double> DownstreamRunDuration = Meter.CreateHistogram("dbtrelay.downstream.run.duration", "s", "Followed downstream run duration",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600] });

    /// <summary>Targets paused. Tags: <c>target</c>, <c>by</c> (operator, breaker).</summary>
    public static readonly Counter<long> TargetPauses = Meter.CreateCounter<long>("dbtrelay.target.pauses", "{pause}", "Targets paused, by whom");

    /// <summary>Time to decide on a webhook request (signature, payload, envelope). Tag: <c>status</c>.</summary>
    public static readonly Histogram<double> IntakeDuration = Meter.CreateHistogram("dbtrelay.intake.duration", "ms", "Intake decision time",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25] });

    /// <summary>From the event's acceptance to its delivery to one target. Tags: <c>target</c>, <c>target_type</c>.</summary>
    public static readonly Histogram<double> DeliveryLatency = Meter.CreateHistogram("dbtrelay.delivery.latency", "s", "Accepted to delivered, per target",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600] });

    /// <summary>
    /// For the HTTP client instrumentation of both hosts: a call's span keeps the URL's origin only. A target's path
    /// or query may hold a secret (a Slack webhook's path is one), and the span would carry it to the trace store.
    /// </summary>
    public static void KeepOriginOnly(Activity activity, HttpRequestMessage request)
    {
        if (request.RequestUri is { IsAbsoluteUri: true } url) activity.SetTag("url.full", UrlOrigin.Of(url));
    }

    /// <summary>Starts a child of the trace a queue message carries (or a new trace when it carries none).</summary>
    public static Activity? StartFrom(string name, string? traceParent, ActivityKind kind = ActivityKind.Consumer) =>
        ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
