using System.Security.Cryptography;

namespace DbtRelay.Webhooks;

/// <summary>dbt Cloud's signature: lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook secret.</summary>
public static class WebhookSignature
{
    private const int HashBytes = 32;

    public static string Compute(ReadOnlySpan<byte> key, ReadOnlySpan<byte> body)
    {
        Span<byte> mac = stackalloc byte[HashBytes];
        HMACSHA256.HashData(key, body, mac);
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// True when <paramref name="presented"/> (decoded by <see cref="TryDecode"/>) is the HMAC of <paramref name="body"/>
    /// under <paramref name="mac"/>'s key; leaves <paramref name="mac"/> reset for the next body.
    /// </summary>
    public static bool Matches(IncrementalHash mac, ReadOnlySpan<byte> body, ReadOnlySpan<byte> presented)
    {
        Span<byte> expected = stackalloc byte[HashBytes];
        mac.AppendData(body);
        mac.GetHashAndReset(expected);
        // Constant time: the comparison never exits early on the first differing byte.
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }

    /// <summary>Decodes a presented signature; false when it is not exactly 64 hex characters.</summary>
    public static bool TryDecode(ReadOnlySpan<char> header, Span<byte> signature)
    {
        header = header.Trim();
        if (header.Length != HashBytes * 2 || signature.Length < HashBytes)
        {
            return false;
        }
        return Convert.FromHexString(header, signature[..HashBytes], out _, out var written) == System.Buffers.OperationStatus.Done
            && written == HashBytes;
    }

    /// <summary>First 8 hex characters of SHA-256 of the secret: enough to tell secrets apart in logs, useless to an attacker.</summary>
    public static string Fingerprint(ReadOnlySpan<byte> secret)
    {
        Span<byte> hash = stackalloc byte[HashBytes];
        SHA256.HashData(secret, hash);
        return Convert.ToHexStringLower(hash[..4]);
    }
}
