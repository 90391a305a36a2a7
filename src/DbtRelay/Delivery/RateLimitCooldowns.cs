using System.Collections.Concurrent;
using System.Globalization;
using DbtRelay.Delivery.Ledger;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Delivery;

/// <summary>
/// Cooldowns of rate-limited accounts (<see cref="Targets.IRateLimitedTarget"/>), kept in the store beside the ledger so
/// every instance waits, not only the one that was told: until a cooldown ends, deliveries and status checks for that
/// account wait, neither attempted nor counted.
/// </summary>
public sealed partial class RateLimitCooldowns(IConditionalStore store, TimeProvider time, ILogger<RateLimitCooldowns> logger)
{
    /// <summary>
    /// The longest an account is held back, whatever a <c>Retry-After</c> asks: a downstream cannot shut every call to
    /// an account out for years (the call that was told still retries at its own pace).
    /// </summary>
    public static readonly TimeSpan Longest = TimeSpan.FromMinutes(15);

    // One store read per account every few seconds, not one per delivery.
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (DateTimeOffset? Until, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>When the account's cooldown ends, or null when it is not cooling down.</summary>
    public async ValueTask<DateTimeOffset?> UntilAsync(string scope, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(scope, out var cached) || now - cached.ReadAt >= CacheFor)
        {
            var (stored, _) = await ReadAsync(scope, cancellationToken).ConfigureAwait(false);
            // What this instance learned itself stands even if the store has not caught up.
            cached = (Later(stored, cached.Until), now);
            _cache[scope] = cached;
        }
        return cached.Until > now ? cached.Until : null;
    }

    /// <summary>Starts (or extends) the account's cooldown to <paramref name="until"/>.</summary>
    public async Task CoolDownAsync(string scope, DateTimeOffset until, string target, CancellationToken cancellationToken)
    {
        _cache[scope] = (Later(until, _cache.TryGetValue(scope, out var cached) ? cached.Until : null), time.GetUtcNow());
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var (stored, version) = await ReadAsync(scope, cancellationToken).ConfigureAwait(false);
            if (stored >= until) return;
            var next = BinaryData.FromString(until.ToString("O", CultureInfo.InvariantCulture));
            var written = version is not null
                ? await store.TryReplaceAsync(Key(scope), next, version, cancellationToken).ConfigureAwait(false)
                : await store.TryCreateAsync(Key(scope), next, cancellationToken).ConfigureAwait(false);
            if (written is not null) break;
        }
        LogCoolingDown(logger, scope, target, until);
    }

    /// <summary>The stored end of the account's cooldown (null when none, or unreadable) and the record's version (null when absent).</summary>
    private async Task<(DateTimeOffset? Until, string? Version)> ReadAsync(string scope, CancellationToken cancellationToken) =>
        await store.ReadAsync(Key(scope), cancellationToken).ConfigureAwait(false) is var (content, version)
            ? (DateTimeOffset.TryParse(content.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var until) ? until : null, version)
            : (null, null);

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null || a > b ? a : b;

    private static string Key(string scope) => "cooldown/" + Uri.EscapeDataString(scope);

    [LoggerMessage(3401, LogLevel.Warning, "{Scope} rate-limited {Target}: no call to it until {Until:u}; its deliveries and status checks wait, uncounted.")]
    private static partial void LogCoolingDown(ILogger logger, string scope, string target, DateTimeOffset until);
}
