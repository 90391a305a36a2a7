using System.Net.Http.Headers;
using System.Text.Json;

namespace DbtRelay.Targets;

/// <summary>How a downstream HTTP answer maps to an outcome when a target has no more specific rule.</summary>
public static class HttpOutcomes
{
    /// <summary>The most of a downstream answer the relay reads (ids and run lists are far smaller).</summary>
    public const int MaxAnswerBytes = 1 << 20;

    public static TargetOutcome Classify(HttpResponseMessage response, string what, DateTimeOffset now)
    {
        var code = (int)response.StatusCode;
        var status = $"{what} answered {code} {response.ReasonPhrase}";
        return code switch
        {
            >= 200 and < 300 => new CallAccepted(status) { HttpStatus = code },
            // Never followed: a redirect would re-send the body and the target's credentials to wherever it points.
            >= 300 and < 400 => new Failed($"{status}, a redirect{Destination(response)}; the relay does not follow redirects: put the final URL in relay.json") { HttpStatus = code },
            401 or 403 => new Failed(status + " (credentials rejected)", CredentialsRejected: true) { HttpStatus = code },
            408 or 429 or >= 500 => new RetryLater(status, RetryAfter(response.Headers.RetryAfter, now)) { HttpStatus = code },
            _ => new Failed(status) { HttpStatus = code },
        };
    }

    /// <summary>Maps a transport failure; a timeout or a dropped connection is ambiguous but always retryable.</summary>
    public static RetryLater FromException(Exception exception, string what, bool timedOut) => timedOut
        ? new RetryLater($"{what} did not answer within the timeout")
        : new RetryLater($"{what} could not be reached: {exception.GetType().Name}: {exception.Message}");

    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } when date > now => date - now,
        _ => null,
    };

    /// <summary>Where a redirect points, origin only (its path or query may hold anything).</summary>
    private static string Destination(HttpResponseMessage response) =>
        response.Headers.Location is { IsAbsoluteUri: true } location && location.Scheme is "http" or "https"
            ? $" to {Telemetry.UrlOrigin.Of(location)}"
            : "";

    /// <summary>A JSON answer of at most <see cref="MaxAnswerBytes"/>, or null (longer, or not JSON).</summary>
    public static async Task<JsonDocument?> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > MaxAnswerBytes) return null;
        using var buffer = new MemoryStream();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var chunk = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > MaxAnswerBytes) return null;
                buffer.Write(chunk, 0, read);
            }
        }
        try
        {
            return JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// A downstream id from a success body (<c>syncId</c>, <c>data.id</c>), or null. An odd body never turns a call
    /// that succeeded into a failure.
    /// </summary>
    public static async Task<string?> ReadIdAsync(HttpResponseMessage response, CancellationToken cancellationToken, params string[] path)
    {
        using var json = await ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        if (json is null) return null;
        var element = json.RootElement;
        foreach (var name in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
        }
        return element.ToString();
    }
}
