using DbtRelay.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DbtRelay.Cli.Serve;

/// <summary>
/// serve's telemetry beyond <c>/metrics</c> (which <c>AddDbtRelayServer</c> brings): traces, metrics and logs over OTLP
/// when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the exporter reads the other <c>OTEL_*</c> settings
/// itself). Without an endpoint no trace is recorded at all.
/// </summary>
internal static class ServeTelemetry
{
    public static void Add(WebApplicationBuilder builder)
    {
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("dbt-relay", serviceVersion: RelayServiceCollectionExtensions.Version))
            .WithMetrics(metrics =>
            {
                if (otlp) metrics.AddMeter(RelayTelemetry.Name).AddOtlpExporter();
            });
        if (!otlp) return;
        // The request span is the root: dbt's POST, then intake, routing and each delivery (with its HTTP call) below it.
        telemetry.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation().AddSource(RelayTelemetry.Name)
                .AddHttpClientInstrumentation(http => http.EnrichWithHttpRequestMessage = RelayTelemetry.KeepOriginOnly).AddOtlpExporter())
            .WithLogging(logging => logging.AddOtlpExporter(), options =>
            {
                // The EventId/RunId/JobId/Target/Attempt scope becomes attributes of every record.
                options.IncludeScopes = true;
                options.ParseStateValues = true;
            });
    }
}
