using DbtRelay.Routing;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Secrets;

/// <summary>
/// The webhook secrets named in relay.json, resolved through the secret store and held in memory. Loaded before
/// intake takes traffic; after a signature mismatch they are re-read at most once per <see cref="RefreshInterval"/>
/// (shared by concurrent requests), so a secret rotated in the store works without a restart.
/// </summary>
public sealed partial class StoredWebhookSecrets(
    RelayConfig config,
    ISecretStore store,
    TimeProvider time,
    ILogger<StoredWebhookSecrets> logger) : IWebhookSecretProvider, IHostedService, IDisposable
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _refreshGate = new(1, 1);
    private volatile IReadOnlyList<WebhookSecret> _current = [];
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    public IReadOnlyList<WebhookSecret> Current => _current;

    /// <summary>Resolves every webhook secret; missing ones are logged by name (intake answers 503 if none load).</summary>
    public async Task LoadAsync(bool refresh, CancellationToken cancellationToken)
    {
        var loaded = new List<WebhookSecret>(config.Webhooks.Count);
        foreach (var webhook in config.Webhooks)
        {
            try
            {
                var value = refresh
                    ? await store.RefreshAsync(webhook.Secret, cancellationToken).ConfigureAwait(false)
                    : await store.GetAsync(webhook.Secret, cancellationToken).ConfigureAwait(false);
                if (value is null) LogMissing(logger, webhook.Name, store.Describe(webhook.Secret));
                else loaded.Add(new WebhookSecret(webhook.Name, value));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogUnavailable(logger, webhook.Name, ex.GetType().Name);
            }
        }
        // A failed reload keeps what worked before: never trade a working secret for nothing.
        if (loaded.Count > 0 || _current.Count == 0) _current = loaded;
        _lastRefresh = time.GetUtcNow();
    }

    public async ValueTask<bool> RefreshAfterMismatchAsync(CancellationToken cancellationToken)
    {
        var seen = _current;
        if (time.GetUtcNow() - _lastRefresh < RefreshInterval) return false;
        await _refreshGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Whoever waited while another request refreshed uses that result instead of fetching again.
            if (!ReferenceEquals(seen, _current)) return true;
            if (time.GetUtcNow() - _lastRefresh < RefreshInterval) return false;
            await LoadAsync(refresh: true, cancellationToken).ConfigureAwait(false);
            return !ReferenceEquals(seen, _current) && !SameKeys(seen, _current);
        }
        finally
        {
            _refreshGate.Release();
        }
    }

    private static bool SameKeys(IReadOnlyList<WebhookSecret> a, IReadOnlyList<WebhookSecret> b) =>
        a.Count == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.Key.AsSpan().SequenceEqual(p.Second.Key));

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => LoadAsync(refresh: false, cancellationToken);

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _refreshGate.Dispose();

    [LoggerMessage(6001, LogLevel.Error, "Webhook {Webhook}: its secret is not set ({Where}); events signed for it will be refused.")]
    private static partial void LogMissing(ILogger logger, string webhook, string where);

    [LoggerMessage(6002, LogLevel.Error, "Webhook {Webhook}: the secret store failed ({Error}); keeping the last good secret if any.")]
    private static partial void LogUnavailable(ILogger logger, string webhook, string error);
}
