using System.Net.Http.Headers;
using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Routing;
using DbtRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Targets;

/// <summary>A configured downstream: one entry of relay.json <c>targets</c>.</summary>
public interface IDeliveryTarget
{
    string Name { get; }

    /// <summary>The relay.json <c>type</c>.</summary>
    string Type { get; }

    TimeSpan Timeout { get; }

    /// <summary>Every secret name this target resolves, so startup can report the missing ones.</summary>
    IReadOnlyList<string> SecretNames { get; }

    /// <summary>Makes the call. Must not throw for downstream failures: those are outcomes.</summary>
    Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken);
}

/// <summary>Everything a target needs for one attempt.</summary>
public sealed record TargetCall(
    DeliveryMessage Delivery,
    TemplateValues Values,
    IReadOnlyDictionary<string, string> Secrets,
    HttpClient Http,
    TimeProvider Time,
    ILogger Logger);

/// <summary>What each target type reads from its relay.json entry.</summary>
public sealed record TargetDefinition(string Name, ConfigNode Node, IReadOnlyDictionary<string, string> Vars)
{
    /// <summary>Per-call timeout, <c>timeoutSeconds</c> (default 30 s).</summary>
    public TimeSpan Timeout => TimeSpan.FromSeconds(Node["timeoutSeconds"].Number(required: false, 1, 300) ?? 30);

    public Template? Template(string property, bool required)
    {
        var node = Node[property];
        var text = node.Text(required);
        return text is null ? null : Targets.Template.Parse(text, node.Path, Node.Problems, Vars);
    }
}

/// <summary>The target types relay.json knows. A new type: one file in Targets/ and one line here.</summary>
public static class TargetTypes
{
    public static readonly IReadOnlyDictionary<string, Func<TargetDefinition, IDeliveryTarget?>> All =
        new Dictionary<string, Func<TargetDefinition, IDeliveryTarget?>>
        {
            [RudderStackRetlTarget.TypeName] = RudderStackRetlTarget.Create,
            [ElementaryTarget.TypeName] = ElementaryTarget.Create,
            [DbtCloudJobTarget.TypeName] = DbtCloudJobTarget.Create,
            [HttpTarget.TypeName] = HttpTarget.Create,
        };

    /// <summary>Properties every target accepts.</summary>
    public static readonly string[] CommonProperties = ["type", "timeoutSeconds", "description"];
}

/// <summary>How a downstream HTTP answer maps to an outcome when a target has no more specific rule.</summary>
public static class HttpOutcomes
{
    public static TargetOutcome Classify(HttpResponseMessage response, string what, DateTimeOffset now)
    {
        var code = (int)response.StatusCode;
        var status = $"{what} answered {code} {response.ReasonPhrase}";
        return code switch
        {
            >= 200 and < 300 => new Delivered(status),
            401 or 403 => new Failed(status + " (credentials rejected)", CredentialsRejected: true),
            408 or 429 or >= 500 => new RetryLater(status, RetryAfter(response.Headers.RetryAfter, now)),
            _ => new Failed(status),
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
