using DbtRelay.Secrets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Webhooks;

/// <summary>
/// The webhook secrets named in relay.json, resolved through the secret store and held in memory for intake.
/// Loaded before the host takes traffic, then re-read from the store every <see cref="ReloadInterval"/> (cache
/// hits, so a background refresh or a vault that came back reaches intake by itself). After a signature mismatch
/// they are re-fetched from the source at most once per <see cref="RotationInterval"/>, shared by concurrent
/// requests, so a secret rotated in the store works without a restart.
/// </summary>
public sealed partial class StoredWebhookSecrets(
    IReadOnlyList<WebhookDefinition> webhooks,
    ISecretStore store,
    TimeProvider time,
    ILogger<StoredWebhookSecrets> logger) : IWebhookSecretProvider, IHostedService, IDisposable
{
    public static readonly TimeSpan RotationInterval = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan ReloadInterval = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile WebhookSecret[] _current = [];
    private DateTimeOffset _lastRotationCheck = DateTimeOffset.MinValue;
    private ITimer? _reload;

    public IReadOnlyList<WebhookSecret> Current => _current;

    /// <summary>Resolves every webhook secret; each missing or failing one is logged by name, never by value.</summary>
    public async Task LoadAsync(bool refresh, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await LoadLockedAsync(refresh, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task LoadLockedAsync(bool refresh, CancellationToken cancellationToken)
    {
        var loaded = new List<WebhookSecret>(webhooks.Count);
        foreach (var webhook in webhooks)
        {
            try
            {
                var value = refresh
                    ? await store.RefreshAsync(webhook.Secret, cancellationToken).ConfigureAwait(false)
                    : await store.GetAsync(webhook.Secret, cancellationToken).ConfigureAwait(false);
                if (value is not null) loaded.Add(new WebhookSecret(webhook.Name, value));
                else if (_current.All(s => s.Name != webhook.Name)) LogMissing(logger, webhook.Name, store.Describe(webhook.Secret));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Keep what worked before for this webhook: never trade a working secret for nothing.
                if (_current.FirstOrDefault(s => s.Name == webhook.Name) is { } previous) loaded.Add(previous);
                else LogUnavailable(logger, webhook.Name, ex.GetType().Name);
            }
        }
        if (!SameKeys(_current, loaded)) _current = [.. loaded];
    }

    public async ValueTask<bool> RefreshAfterMismatchAsync(IReadOnlyList<WebhookSecret> snapshot, CancellationToken cancellationToken)
    {
        // The caller checked against the set it read when its request began; if a concurrent request has re-fetched
        // since, that newer set is worth a check before any rate limit applies.
        if (!ReferenceEquals(_current, snapshot)) return true;
        // Always through the gate: a request arriving while another re-fetches must wait for that result, not be
        // refused by the rate limit the other request just armed.
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!ReferenceEquals(_current, snapshot)) return true;
            if (time.GetUtcNow() - _lastRotationCheck < RotationInterval) return false;
            _lastRotationCheck = time.GetUtcNow();
            await LoadLockedAsync(refresh: true, cancellationToken).ConfigureAwait(false);
            return !ReferenceEquals(snapshot, _current);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static bool SameKeys(WebhookSecret[] a, List<WebhookSecret> b) =>
        a.Length == b.Count && a.Zip(b).All(p => p.First.Name == p.Second.Name && p.First.Key.AsSpan().SequenceEqual(p.Second.Key));

    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(refresh: false, cancellationToken).ConfigureAwait(false);
        if (_current.Length == 0) LogNoneLoaded(logger);
        _reload = time.CreateTimer(_ => _ = ReloadQuietlyAsync(), null, ReloadInterval, ReloadInterval);
    }

    private async Task ReloadQuietlyAsync()
    {
        try
        {
            await LoadAsync(refresh: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogUnavailable(logger, "(all)", ex.GetType().Name);
        }
    }

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _reload?.Dispose();
        _gate.Dispose();
    }

    [LoggerMessage(6001, LogLevel.Error, "Webhook {Webhook}: its secret is not set ({Where}); events signed for it are refused.")]
    private static partial void LogMissing(ILogger logger, string webhook, string where);

    [LoggerMessage(6002, LogLevel.Error, "Webhook {Webhook}: the secret store failed ({Error}); retrying every 30 s, keeping the last good secret if any.")]
    private static partial void LogUnavailable(ILogger logger, string webhook, string error);

    [LoggerMessage(6003, LogLevel.Error, "No webhook secret could be loaded: intake answers 503 (dbt Cloud retries) until one can.")]
    private static partial void LogNoneLoaded(ILogger logger);
}
