using System.Collections.Concurrent;
using System.Globalization;
using DbtRelay.Delivery.Ledger;

namespace DbtRelay.InProcess;

/// <summary>The conditional store of one process (serve, tests).</summary>
public sealed class InMemoryConditionalStore : IConditionalStore
{
    private readonly ConcurrentDictionary<string, (BinaryData Content, string Version)> _items = new(StringComparer.Ordinal);

    public ValueTask<string?> TryCreateAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        var version = NewVersion();
        return ValueTask.FromResult(_items.TryAdd(key, (content, version)) ? version : null);
    }

    public ValueTask<(BinaryData Content, string Version)?> ReadAsync(string key, CancellationToken cancellationToken) =>
        ValueTask.FromResult<(BinaryData, string)?>(_items.TryGetValue(key, out var item) ? item : null);

    public ValueTask<string?> TryReplaceAsync(string key, BinaryData content, string version, CancellationToken cancellationToken)
    {
        if (!_items.TryGetValue(key, out var current) || current.Version != version) return ValueTask.FromResult<string?>(null);
        var next = NewVersion();
        return ValueTask.FromResult(_items.TryUpdate(key, (content, next), current) ? next : null);
    }

    public ValueTask WriteAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        _items[key] = (content, NewVersion());
        return ValueTask.CompletedTask;
    }

    public ValueTask TryDeleteAsync(string key, string version, CancellationToken cancellationToken)
    {
        if (_items.TryGetValue(key, out var current) && current.Version == version) _items.TryRemove(new(key, current));
        return ValueTask.CompletedTask;
    }

    public ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix, string? startAfter, int max, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>(_items.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && (startAfter is null || string.CompareOrdinal(k, startAfter) > 0))
            .Order(StringComparer.Ordinal)
            .Take(max)
            .ToList());

    private long _lastVersion;

    /// <summary>Versions need only differ within this process: a counter, not a GUID's trip to the OS's random source.</summary>
    private string NewVersion() => Interlocked.Increment(ref _lastVersion).ToString(CultureInfo.InvariantCulture);
}
