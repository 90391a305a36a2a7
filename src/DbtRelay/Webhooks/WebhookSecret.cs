using System.Text;

namespace DbtRelay.Webhooks;

/// <summary>
/// One dbt webhook subscription's signing secret. A class, not a record, so that no generated
/// ToString can ever print the key.
/// </summary>
public sealed class WebhookSecret
{
    public WebhookSecret(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(value);
        Name = name;
        Key = Encoding.UTF8.GetBytes(value);
        Fingerprint = WebhookSignature.Fingerprint(Key);
    }

    /// <summary>The webhook's name in relay.json (recorded on the envelope when it matches).</summary>
    public string Name { get; }

    internal byte[] Key { get; }

    public string Fingerprint { get; }

    public override string ToString() => $"{Name} ({Fingerprint})";
}

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

/// <summary>A fixed set of secrets (tests, benchmarks, and hosts that resolve secrets once at startup).</summary>
public sealed class StaticWebhookSecrets(IReadOnlyList<WebhookSecret> secrets) : IWebhookSecretProvider
{
    public IReadOnlyList<WebhookSecret> Current { get; } = secrets;

    public ValueTask<bool> RefreshAfterMismatchAsync(IReadOnlyList<WebhookSecret> snapshot, CancellationToken cancellationToken) => ValueTask.FromResult(false);
}
