using System.Collections.Concurrent;
using System.Security.Cryptography;
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

    /// <summary>
    /// Keyed HMACs ready to reuse: keying one costs about as much as hashing a 1 KiB body, and intake checks every
    /// candidate secret on every request. A bag keeps each thread's own instance close at hand.
    /// </summary>
    private readonly ConcurrentBag<IncrementalHash> _macs = [];

    /// <summary>True when <paramref name="presented"/> is this secret's HMAC-SHA256 of <paramref name="body"/> (constant time).</summary>
    public bool Verifies(ReadOnlySpan<byte> body, ReadOnlySpan<byte> presented)
    {
        if (!_macs.TryTake(out var mac)) mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Key);
        bool matches;
        try
        {
            matches = WebhookSignature.Matches(mac, body, presented);
        }
        catch
        {
            // Its state is unknown after a failure: never hand it to the next request.
            mac.Dispose();
            throw;
        }
        _macs.Add(mac);
        return matches;
    }

    public override string ToString() => $"{Name} ({Fingerprint})";
}
