namespace DbtRelay.Webhooks;

/// <summary>The webhook secrets intake checks signatures against. Reads are in memory: no I/O on the request path.</summary>
public interface IWebhookSecretProvider
{
    IReadOnlyList<WebhookSecret> Current { get; }

    /// <summary>
    /// Called after a signature matched none of <paramref name="snapshot"/> (the set the request checked): true when
    /// <see cref="Current"/> now differs from it, after a rate-limited reload that can pick up a rotated secret.
    /// </summary>
    ValueTask<bool> RefreshAfterMismatchAsync(IReadOnlyList<WebhookSecret> snapshot, CancellationToken cancellationToken);
}
