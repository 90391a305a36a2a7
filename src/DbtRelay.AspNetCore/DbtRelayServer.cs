using DbtRelay.Operations;
using DbtRelay.Telemetry;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace DbtRelay.AspNetCore;

/// <summary>
/// The relay in any ASP.NET Core app, in two calls after <c>AddDbtRelay</c> and a store's <c>AddX()</c>:
/// <c>services.AddDbtRelayServer()</c>, then <c>app.MapDbtRelay()</c>. The routes are the Functions app's.
/// </summary>
public static class DbtRelayServer
{
    /// <summary>Prometheus text of the relay's metrics, behind the admin key like the rest of the ops API.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>What the routes need beyond the relay itself: the relay's meter on the Prometheus scrape endpoint.</summary>
    public static IServiceCollection AddDbtRelayServer(this IServiceCollection services)
    {
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(RelayTelemetry.Name).AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// The relay's routes: intake and health for anyone, the ops API and <see cref="MetricsPath"/> for the admin key
    /// (secret <see cref="AdminKey.Secret"/>; off, 404, while it is not set).
    /// </summary>
    public static IEndpointRouteBuilder MapDbtRelay(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api");
        api.Map(WebhookIntake.Route, IntakeEndpoint.ReceiveAsync);
        api.MapGet(Health.Route, OpsEndpoints.Health);

        var ops = api.MapGroup("").RequireAdminKey();
        ops.MapGet(EventRoutes.List, OpsEndpoints.ListEventsAsync);
        ops.MapGet(EventRoutes.One, OpsEndpoints.GetEventAsync);
        ops.MapPost(EventRoutes.Redeliver, OpsEndpoints.RedeliverAsync);
        ops.MapGet(DeadLetterRoutes.Base, OpsEndpoints.ListDeadLettersAsync);
        ops.MapPost(DeadLetterRoutes.Replay, OpsEndpoints.ReplayDeadLettersAsync);
        ops.MapPost(DeadLetterRoutes.ReplayOne, OpsEndpoints.ReplayDeadLetterAsync);
        ops.MapGet(TargetRoutes.List, OpsEndpoints.ListPausedAsync);
        ops.MapPost(TargetRoutes.Pause, OpsEndpoints.PauseAsync);
        ops.MapPost(TargetRoutes.Resume, OpsEndpoints.ResumeAsync);

        endpoints.MapPrometheusScrapingEndpoint(MetricsPath).RequireAdminKey();
        return endpoints;
    }
}
