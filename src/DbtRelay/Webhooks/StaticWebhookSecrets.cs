namespace DbtRelay.Webhooks;

/// <summary>A fixed set of secrets (tests, benchmarks, and hosts that resolve secrets once at startup).</summary>
public sealed class StaticWebhookSecrets(IReadOnlyList<WebhookSecret> secrets) : IWebhookSecretProvider
{
    public IReadOnlyList<WebhookSecret> Current { get; } = secrets;

    public ValueTask<bool> RefreshAfterMismatchAsync(IReadOnlyList<WebhookSecret> snapshot, CancellationToken cancellationToken) => ValueTask.FromResult(false);
}
