using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Delivery;

/// <summary>
/// Which targets are paused, kept in the store each host already uses (beside the ledger), so every instance sees the
/// same answer. A target is paused by an operator, or by the circuit breaker after
/// <see cref="RetryOptions.PauseAfterFailures"/> failed attempts in a row (off by default). While a target is paused its
/// deliveries wait: each is looked at again every <see cref="Recheck"/>, neither attempted nor counted.
/// </summary>
public sealed partial class TargetPauses(IConditionalStore store, IOptions<RetryOptions> options, TimeProvider time, ILogger<TargetPauses> logger)
{
    public const string ByOperator = "operator";
    public const string ByBreaker = "breaker";

    /// <summary>How often a held delivery looks again; a resume is seen within this (plus the cache below).</summary>
    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(30);

    // One store read per target every few seconds, not one per delivery.
    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private const string Prefix = "paused/";
    private const string FailingPrefix = "failing/";

    private readonly int _pauseAfter = options.Value.PauseAfterFailures;
    private readonly ConcurrentDictionary<string, (PauseRecord? Record, DateTimeOffset ReadAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>
    /// How long a held delivery waits before it looks again: every held delivery looks at the same
    /// <see cref="Recheck"/> ticks, each later by 10 ms per second it was queued after the pause (at most 25 s, so the
    /// first 41 minutes of a pause are told apart; later ones keep their queue's order), so that on resume they come due
    /// in the order they arrived (a store that orders due messages, as serve's does, keeps it).
    /// </summary>
    public TimeSpan UntilNextLook(DeliveryMessage delivery, PauseRecord pause)
    {
        var now = time.GetUtcNow();
        var nextTick = new DateTimeOffset((now.UtcTicks / Recheck.Ticks + 1) * Recheck.Ticks, TimeSpan.Zero);
        var offset = TimeSpan.FromMilliseconds(Math.Clamp((delivery.FirstQueuedAt - pause.Since).TotalSeconds * 10, 0, 25_000));
        return nextTick + offset - now;
    }

    public async ValueTask<PauseRecord?> GetAsync(string target, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(target, out var cached) && now - cached.ReadAt < CacheFor) return cached.Record;
        var record = await ReadAsync(target, cancellationToken).ConfigureAwait(false);
        _cache[target] = (record?.Record, now);
        return record?.Record;
    }

    public async Task<IReadOnlyList<PauseRecord>> ListAsync(CancellationToken cancellationToken)
    {
        var paused = new List<PauseRecord>();
        foreach (var key in await store.ListKeysAsync(Prefix, null, 1000, cancellationToken).ConfigureAwait(false))
        {
            if (await ReadAsync(Uri.UnescapeDataString(key[Prefix.Length..]), cancellationToken).ConfigureAwait(false) is { } found) paused.Add(found.Record);
        }
        return paused;
    }

    public async Task<PauseRecord> PauseAsync(string target, string by, string reason, CancellationToken cancellationToken)
    {
        var record = new PauseRecord(target, time.GetUtcNow(), by, reason);
        await store.WriteAsync(Key(target), BinaryData.FromBytes(DeliveryJson.Serialize(record)), cancellationToken).ConfigureAwait(false);
        _cache.TryRemove(target, out _);
        RelayTelemetry.TargetPauses.Add(1, new KeyValuePair<string, object?>("target", target), new KeyValuePair<string, object?>("by", by));
        LogPaused(logger, target, by, reason);
        return record;
    }

    /// <summary>False when the target was not paused.</summary>
    public async Task<bool> ResumeAsync(string target, CancellationToken cancellationToken)
    {
        _cache.TryRemove(target, out _);
        if (await ReadAsync(target, cancellationToken).ConfigureAwait(false) is not { } found) return false;
        await store.TryDeleteAsync(Key(target), found.Version, cancellationToken).ConfigureAwait(false);
        await ResetFailuresAsync(target, cancellationToken).ConfigureAwait(false);
        _cache.TryRemove(target, out _);
        LogResumed(logger, target);
        return true;
    }

    /// <summary>The circuit breaker's count: a delivered call resets it, a failed one adds one and may pause the target.</summary>
    public async Task RecordAttemptAsync(string target, bool failed, string detail, CancellationToken cancellationToken)
    {
        if (_pauseAfter == 0) return;
        if (!failed)
        {
            await ResetFailuresAsync(target, cancellationToken).ConfigureAwait(false);
            return;
        }
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await store.ReadAsync(FailingPrefix + Uri.EscapeDataString(target), cancellationToken).ConfigureAwait(false);
            var count = current is var (content, _) && int.TryParse(content.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n + 1 : 1;
            var written = current is var (_, version)
                ? await store.TryReplaceAsync(FailingPrefix + Uri.EscapeDataString(target), BinaryData.FromString(count.ToString(CultureInfo.InvariantCulture)), version, cancellationToken).ConfigureAwait(false)
                : await store.TryCreateAsync(FailingPrefix + Uri.EscapeDataString(target), BinaryData.FromString(count.ToString(CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false);
            if (written is null) continue; // another worker counted meanwhile
            if (count == _pauseAfter && await GetAsync(target, cancellationToken).ConfigureAwait(false) is null)
            {
                await PauseAsync(target, ByBreaker, $"{count} failed attempts in a row; last: {DeadLetter.Capped(detail)}", cancellationToken).ConfigureAwait(false);
            }
            return;
        }
    }

    private async Task ResetFailuresAsync(string target, CancellationToken cancellationToken)
    {
        if (await store.ReadAsync(FailingPrefix + Uri.EscapeDataString(target), cancellationToken).ConfigureAwait(false) is var (_, version))
        {
            await store.TryDeleteAsync(FailingPrefix + Uri.EscapeDataString(target), version, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<(PauseRecord Record, string Version)?> ReadAsync(string target, CancellationToken cancellationToken)
    {
        if (await store.ReadAsync(Key(target), cancellationToken).ConfigureAwait(false) is not var (content, version)) return null;
        try
        {
            return (DeliveryJson.DeserializePause(content.ToMemory()), version);
        }
        catch (JsonException)
        {
            // An unreadable record still means someone paused the target: keep it paused, say so.
            return (new PauseRecord(target, DateTimeOffset.MinValue, ByOperator, Encoding.UTF8.GetString(content.ToMemory().Span)[..Math.Min(100, content.ToMemory().Length)]), version);
        }
    }

    private static string Key(string target) => Prefix + Uri.EscapeDataString(target);

    [LoggerMessage(3201, LogLevel.Warning, "Target {Target} paused by {By}: {Reason}. Its deliveries wait until it is resumed (dbt-relay targets resume {Target}).")]
    private static partial void LogPaused(ILogger logger, string target, string by, string reason);

    [LoggerMessage(3202, LogLevel.Information, "Target {Target} resumed: its held deliveries go out within 30 s, at its usual pace.")]
    private static partial void LogResumed(ILogger logger, string target);
}
