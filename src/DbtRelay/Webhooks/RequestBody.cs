namespace DbtRelay.Webhooks;

/// <summary>Reads a request body once, refusing to buffer past the limit.</summary>
public static class RequestBody
{
    /// <summary>
    /// Returns the body, or null when it is larger than <paramref name="limit"/>. A declared Content-Length over the
    /// limit is refused before reading a byte; otherwise at most limit + 1 bytes are ever read.
    /// </summary>
    public static async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(Stream body, long? contentLength, int limit, CancellationToken cancellationToken)
    {
        if (contentLength > limit) return null;
        // One spare byte tells "exactly at the limit" from "over it" without reading further.
        var buffer = new byte[Math.Min(limit + 1, contentLength is { } declared ? (int)declared + 1 : 16 * 1024)];
        var filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (filled > limit) return null;
                Array.Resize(ref buffer, Math.Min(buffer.Length * 2, limit + 1));
            }
            var read = await body.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            filled += read;
        }
        return filled > limit ? null : buffer.AsMemory(0, filled);
    }
}
