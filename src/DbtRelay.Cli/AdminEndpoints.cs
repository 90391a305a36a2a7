using System.Security.Cryptography;
using System.Text;
using DbtRelay.Delivery;
using DbtRelay.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Cli;

/// <summary>serve's ops API, behind the secret relay-admin-key: the same routes as the Functions app.</summary>
internal static class AdminEndpoints
{
    public const string AdminKeySecret = "relay-admin-key";

    /// <summary>
    /// The ops API (dead letters: list, replay all, replay one), the same routes as the Functions app. Guarded by the
    /// secret relay-admin-key (header x-relay-admin-key) because serve may be exposed through a tunnel; without that
    /// secret the routes are off.
    /// </summary>
    internal static void MapDeadLetters(WebApplication app)
    {
        var ops = app.MapGroup("/api/" + DeadLetterRoutes.Base).AddEndpointFilter(async (context, next) =>
        {
            var store = context.HttpContext.RequestServices.GetRequiredService<ISecretStore>();
            var key = await store.GetAsync(AdminKeySecret, context.HttpContext.RequestAborted);
            if (key is null) return Results.NotFound();
            var presented = context.HttpContext.Request.Headers["x-relay-admin-key"].ToString();
            var ok = CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
            return ok ? await next(context) : Results.Unauthorized();
        });
        ops.MapGet("", async (IDeadLetters deadLetters, int? max, CancellationToken ct) =>
            Json(DeliveryJson.Serialize(await deadLetters.ListAsync(DeadLetterRoutes.Limit(max), ct))));
        ops.MapPost("/replay", async (IDeadLetters deadLetters, int? max, CancellationToken ct) =>
            Json(DeliveryJson.Serialize(new ReplayAnswer(await deadLetters.ReplayAsync(DeadLetterRoutes.Limit(max), null, ct)))));
        ops.MapPost("/{eventId}/{target}/replay", async (IDeadLetters deadLetters, string eventId, string target, CancellationToken ct) =>
        {
            var replayed = await deadLetters.ReplayAsync(1, new DeliveryAddress(eventId, target), ct);
            return replayed == 0 ? Results.NotFound() : Json(DeliveryJson.Serialize(new ReplayAnswer(replayed)));
        });
    }

    private static IResult Json(byte[] body) => Results.Bytes(body, "application/json");
}
