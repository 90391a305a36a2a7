using Azure.Monitor.OpenTelemetry.Exporter;
using DbtRelay.Secrets;
using DbtRelay.Telemetry;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace DbtRelay.Functions;

/// <summary>
/// The worker's own telemetry, exported by OpenTelemetry to Application Insights with the app's managed identity
/// (the resource has local auth off). Log records keep the relay's scope, so EventId, RunId, JobId, Target and
/// Attempt arrive as custom dimensions of every line; the relay's metrics and spans (intake → route → attempts,
/// under each invocation's span) go the same way. Without a connection string (func start without Application
/// Insights) nothing is exported.
/// </summary>
public static class FunctionsTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";
    public const string AuthenticationSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>Registers the worker's OpenTelemetry; <paramref name="exporters"/> adds more (tests add in-memory ones).</summary>
    public static IServiceCollection AddDbtRelayTelemetry(this IServiceCollection services, IConfiguration configuration, Action<OpenTelemetryBuilder>? exporters = null)
    {
        var telemetry = services.AddOpenTelemetry();
        telemetry.UseFunctionsWorkerDefaults();
        telemetry
            .WithMetrics(metrics => metrics.AddMeter(RelayTelemetry.Name))
            .WithTracing(tracing => tracing.AddSource(RelayTelemetry.Name)
                .AddHttpClientInstrumentation(http => http.EnrichWithHttpRequestMessage = RelayTelemetry.KeepOriginOnly))
            .WithLogging(configureBuilder: null, configureOptions: options =>
            {
                options.IncludeScopes = true;
                options.ParseStateValues = true;
                // The trace's message in Application Insights: the line as written, not its template.
                options.IncludeFormattedMessage = true;
            });
        if (configuration[ConnectionStringSetting] is { Length: > 0 } connectionString)
        {
            var authentication = configuration[AuthenticationSetting];
            telemetry.UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = connectionString;
                // Entra ID when the standard setting asks for it (the Bicep does: the resource refuses keys), else the
                // connection string's instrumentation key, as every Application Insights SDK does without that setting.
                if (UsesEntraId(authentication)) options.Credential = AzureCredentials.Create(ClientId(authentication));
            });
        }
        exporters?.Invoke(telemetry);
        return services;
    }

    /// <summary>The identity named by the standard <c>ClientId=…;Authorization=AAD</c> setting the Bicep writes.</summary>
    internal static string? ClientId(string? authentication) => Part(authentication, "ClientId");

    internal static bool UsesEntraId(string? authentication) => string.Equals(Part(authentication, "Authorization"), "AAD", StringComparison.OrdinalIgnoreCase);

    private static string? Part(string? authentication, string name) =>
        authentication?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => part.Split('=', 2))
            .FirstOrDefault(kv => kv.Length == 2 && kv[0].Equals(name, StringComparison.OrdinalIgnoreCase))?[1];
}
