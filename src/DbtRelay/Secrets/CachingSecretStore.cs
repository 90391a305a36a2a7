using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Secrets;

/// <summary>
/// Serves secrets from memory. A secret is fetched on first use, then refreshed in the background once per TTL for
/// as long as the process lives: requests and queue messages never wait on, or count against, the vault (Key
/// Vault allows 4,000 operations per 10 s per vault). When the source fails, the last good value keeps serving
/// (stale-if-error) and the failure is logged once per refresh round, not per request.
/// </summary>
public sealed partial class CachingSecretStore : ISecretStore, IDisposable
{
    /// <summary>Forced re-reads (rotation, a 401) of one secret happen at most this often.</summary>
    public static readonly TimeSpan MinimumForcedInterval = TimeSpan.FromSeconds(30);

    private sealed class Entry
    {
        public string? Value;
        public DateTimeOffset FetchedAt = DateTimeOffset.MinValue;
        public DateTimeOffset ForcedAt = DateTimeOffset.MinValue;
        public Task<string?>? Pending;
    }

    private readonly ISecretSource _source;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ITimer _refreshTimer;
    private int _refreshing;

    public CachingSecretStore(ISecretSource source, TimeSpan ttl, TimeProvider time, ILogger<CachingSecretStore> logger)
    {
        _source = source;
        _time = time;
        _logger = logger;
        _refreshTimer = time.CreateTimer(_ => _ = RefreshAllAsync(), null, ttl, ttl);
    }

    public async ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(name, _ => new Entry());
        if (entry.FetchedAt != DateTimeOffset.MinValue) return entry.Value;
        return await FetchAsync(name, entry).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<string?> RefreshAsync(string name, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(name, _ => new Entry());
        Task<string?>? underway = null;
        lock (entry)
        {
            if (_time.GetUtcNow() - entry.ForcedAt < MinimumForcedInterval && entry.FetchedAt != DateTimeOffset.MinValue)
            {
                // Re-read moments ago: that read's value, waiting for it if it is still under way (two 401s at once
                // after a rotation must both get the new token, not one of them the old).
                if (entry.Pending is null) return entry.Value;
                underway = entry.Pending;
            }
            else
            {
                entry.ForcedAt = _time.GetUtcNow();
            }
        }
        try
        {
            return await (underway ?? FetchAsync(name, entry)).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException && entry.FetchedAt != DateTimeOffset.MinValue)
        {
            LogRefreshFailed(_logger, 1, ex.GetType().Name);
            return entry.Value; // stale-if-error
        }
    }

    public DateTimeOffset? NextForcedReadAt(string name)
    {
        if (!_entries.TryGetValue(name, out var entry)) return null;
        lock (entry)
        {
            var next = entry.ForcedAt + MinimumForcedInterval;
            return entry.FetchedAt != DateTimeOffset.MinValue && next > _time.GetUtcNow() ? next : null;
        }
    }

    public string Describe(string name) => _source.Describe(name);

    /// <summary>One fetch per secret at a time, shared by everyone asking meanwhile.</summary>
    private Task<string?> FetchAsync(string name, Entry entry)
    {
        TaskCompletionSource<string?> fetch;
        lock (entry)
        {
            if (entry.Pending is { } pending) return pending;
            // Published before the fetch starts, and cleared only by it, even if it completes synchronously.
            fetch = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
            entry.Pending = fetch.Task;
        }
        _ = FetchAndStoreAsync(name, entry, fetch);
        return fetch.Task;
    }

    private async Task FetchAndStoreAsync(string name, Entry entry, TaskCompletionSource<string?> fetch)
    {
        try
        {
            var value = await _source.FetchAsync(name, CancellationToken.None).ConfigureAwait(false);
            lock (entry)
            {
                entry.Value = value;
                entry.FetchedAt = _time.GetUtcNow();
                entry.Pending = null;
            }
            fetch.SetResult(value);
        }
        catch (Exception ex)
        {
            lock (entry) entry.Pending = null;
            fetch.SetException(ex);
        }
    }

    /// <summary>The background refresh: every known secret, once per TTL.</summary>
    internal async Task RefreshAllAsync()
    {
        // A round still running when the next is due (a slow vault) makes the next one unnecessary.
        if (Interlocked.Exchange(ref _refreshing, 1) == 1) return;
        var failures = 0;
        string? lastError = null;
        try
        {
            foreach (var (name, entry) in _entries)
            {
                try
                {
                    await FetchAsync(name, entry).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failures++;
                    lastError = ex.GetType().Name;
                }
            }
        }
        finally
        {
            Volatile.Write(ref _refreshing, 0);
        }
        if (failures > 0) LogRefreshFailed(_logger, failures, lastError!);
    }

    public void Dispose() => _refreshTimer.Dispose();

    [LoggerMessage(6101, LogLevel.Warning, "Refreshing {Count} secret(s) from the secret store failed ({Error}); serving the last good values until it answers.")]
    private static partial void LogRefreshFailed(ILogger logger, int count, string error);
}
