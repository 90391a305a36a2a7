using System.Security.Cryptography;
using System.Text;
using DbtRelay.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.AspNetCore;

/// <summary>
/// The ops API's key: the secret <see cref="Secret"/>, presented in header <see cref="Header"/> (or
/// <c>Authorization: Bearer</c>, for scrapers). An app may be exposed through a tunnel, so without the secret the
/// guarded routes are off (404), and without the key they answer 401.
/// </summary>
public static class AdminKey
{
    public const string Secret = "relay-admin-key";
    public const string Header = "x-relay-admin-key";

    /// <summary>404 while no admin key is configured (the routes are off), 401 without the key, else the endpoint.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder endpoints) where TBuilder : IEndpointConventionBuilder =>
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
        var key = await store.GetAsync(Secret, context.RequestAborted);
        if (key is null) return null;
        var presented = context.Request.Headers[Header].ToString();
        if (presented.Length == 0 && context.Request.Headers.Authorization.ToString() is { } authorization
            && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }
        // Hashes first, so the comparison takes the same time whatever the lengths.
        return CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }
}
