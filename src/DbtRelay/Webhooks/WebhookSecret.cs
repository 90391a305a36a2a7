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
