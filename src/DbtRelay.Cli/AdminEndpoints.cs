using System.Security.Cryptography;
using System.Text;
using DbtRelay.Operations;
using DbtRelay.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Cli;

/// <summary>
/// serve's ops API — dead letters (list, replay all, replay one), events (list, timeline, redeliver) and targets
/// (list paused, pause, resume) — on the
/// same routes as the Functions app, plus <c>/metrics</c>. Guarded by the secret relay-admin-key (header
/// x-relay-admin-key, or <c>Authorization: Bearer</c> for scrapers) because serve may be exposed through a tunnel;
/// without that secret the routes are off (404).
/// </summary>
internal static class AdminEndpoints
{
    public const string AdminKeySecret = "relay-admin-key";
    public const string AdminKeyHeader = "x-relay-admin-key";

    internal static void MapOps(WebApplication app)
    {
        var ops = app.MapGroup("/api").RequireAdminKey();
        MapDeadLetters(ops);
        MapEvents(ops);
        MapTargets(ops);
    }

    /// <summary>404 while no admin key is configured (the routes are off), 401 without the key, else the endpoint.</summary>
    internal static TBuilder RequireAdminKey<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
        endpoints.AddEndpointFilter(async (context, next) =>
            await IsAdminAsync(context.HttpContext) switch
            {
                null => Results.NotFound(),
                false => Results.Unauthorized(),
                true => await next(context),
            });

    /// <summary>null when the admin API is off (no key configured), else whether the request carries the key.</summary>
    private static async Task<bool?> IsAdminAsync(HttpContext context)
    {
        var store = context.RequestServices.GetRequiredService<ISecretStore>();
        var key = await store.GetAsync(AdminKeySecret, context.RequestAborted);
        if (key is null) return null;
        var presented = context.Request.Headers[AdminKeyHeader].ToString();
        if (presented.Length == 0 && context.Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        // Hashes first, so the comparison takes the same time whatever the lengths.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    private static void MapDeadLetters(RouteGroupBuilder ops)
    {
        ops.MapGet(DeadLetterRoutes.Base, async (DeadLettersApi api, int? max, CancellationToken ct) => Answer(await api.ListAsync(max, ct)));
        ops.MapPost(DeadLetterRoutes.Replay, async (DeadLettersApi api, int? max, CancellationToken ct) => Answer(await api.ReplayAllAsync(max, ct)));
        ops.MapPost(DeadLetterRoutes.ReplayOne, async (DeadLettersApi api, string eventId, string target, CancellationToken ct) =>
            Answer(await api.ReplayOneAsync(eventId, target, ct)));
    }

    private static void MapEvents(RouteGroupBuilder ops)
    {
        ops.MapGet(EventRoutes.List, async (EventsApi api, string? since, string? status, string? jobId, string? target, string? limit, string? after, CancellationToken ct) =>
            Answer(await api.ListAsync(since, status, jobId, target, limit, after, ct)));
        ops.MapGet(EventRoutes.One, async (EventsApi api, string eventId, CancellationToken ct) =>
            Answer(await api.GetAsync(eventId, ct)));
        ops.MapPost(EventRoutes.Redeliver, async (EventsApi api, string eventId, string? target, CancellationToken ct) =>
            Answer(await api.RedeliverAsync(eventId, target, ct)));
    }

    private static void MapTargets(RouteGroupBuilder ops)
    {
        ops.MapGet(TargetRoutes.List, async (TargetsApi api, CancellationToken ct) => Answer(await api.ListAsync(ct)));
        ops.MapPost(TargetRoutes.Pause, async (TargetsApi api, string name, string? reason, CancellationToken ct) => Answer(await api.PauseAsync(name, reason, ct)));
        ops.MapPost(TargetRoutes.Resume, async (TargetsApi api, string name, CancellationToken ct) => Answer(await api.ResumeAsync(name, ct)));
    }

    private static IResult Answer(OpsAnswer answer) => Results.Text(Encoding.UTF8.GetString(answer.Body), "application/json", Encoding.UTF8, answer.Status);
}
