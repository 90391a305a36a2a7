using System.Net.Http.Headers;
using System.Text.Json;

namespace DbtRelay.Targets;

/// <summary>How a downstream HTTP answer maps to an outcome when a target has no more specific rule.</summary>
public static class HttpOutcomes
{
    public static TargetOutcome Classify(HttpResponseMessage response, string what, DateTimeOffset now)
    {
        var code = (int)response.StatusCode;
        var status = $"{what} answered {code} {response.ReasonPhrase}";
        return code switch
        {
            >= 200 and < 300 => new Delivered(status) { HttpStatus = code },
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

    /// <summary>
    /// A downstream id from a success body (<c>syncId</c>, <c>data.id</c>), or null. An odd body never turns a call
    /// that succeeded into a failure.
    /// </summary>
    public static async Task<string?> ReadIdAsync(HttpResponseMessage response, CancellationToken cancellationToken, params string[] path)
    {
        try
        {
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), default, cancellationToken).ConfigureAwait(false);
            var element = json.RootElement;
            foreach (var name in path)
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
            }
            return element.ToString();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
