using System.Text;
using System.Text.Json.Serialization;
using System.Diagnostics;

namespace DbtRelay.Events;

/// <summary>
/// What intake puts on queue <c>dbt-events</c>: the dbt body verbatim (the signed bytes) plus what intake learned.
/// </summary>
public sealed record EventEnvelope
{
    /// <summary>
    /// 3: the body is a JSON object written last (<see cref="EventEnvelopeReader"/> relies on that); 2 wrote it before
    /// the trace and whitespace fields; 1 carried it as a string. All three are read.
    /// </summary>
    public const int CurrentVersion = 3;

    [JsonPropertyName("v")]
    public int Version { get; init; } = CurrentVersion;

    public required string EventId { get; init; }
    public required string EventType { get; init; }

    /// <summary>Name of the webhook secret whose signature matched.</summary>
    public required string Webhook { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
    public long? AccountId { get; init; }
    public string? JobId { get; init; }
    public string? RunId { get; init; }
    public string? EnvironmentId { get; init; }
    public string? ProjectId { get; init; }
    public string? RunStatus { get; init; }
    public int? RunStatusCode { get; init; }

    /// <summary>The signed body's JSON object byte for byte (what routing and templates read). Always written last.</summary>
    [JsonConverter(typeof(RawJsonObjectConverter))]
    [JsonPropertyOrder(1)]
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>W3C traceparent of the intake, so routing and delivery join the event's trace.</summary>
    public string? TraceParent { get; init; }

    /// <summary>Whitespace the signed body had before and after its object (dbt sends none); null when none.</summary>
    public string? BodyLeading { get; init; }
    public string? BodyTrailing { get; init; }

    /// <summary>The body exactly as dbt signed it: its signature verifies against these bytes.</summary>
    public byte[] SignedBody() =>
        [.. Encoding.ASCII.GetBytes(BodyLeading ?? ""), .. Body.Span, .. Encoding.ASCII.GetBytes(BodyTrailing ?? "")];

    public static EventEnvelope From(DbtEventFacts facts, string webhook, DateTimeOffset receivedAt, ReadOnlyMemory<byte> body)
    {
        var start = Start(body.Span);
        var end = End(body.Span);
        return new()
        {
            EventId = facts.EventId,
            EventType = facts.EventType,
            Webhook = webhook,
            ReceivedAt = receivedAt,
            AccountId = facts.AccountId,
            JobId = facts.JobId,
            RunId = facts.RunId,
            EnvironmentId = facts.EnvironmentId,
            ProjectId = facts.ProjectId,
            RunStatus = facts.RunStatus,
            RunStatusCode = facts.EffectiveStatusCode,
            Body = body[start..end],
            BodyLeading = start > 0 ? Encoding.ASCII.GetString(body.Span[..start]) : null,
            BodyTrailing = end < body.Length ? Encoding.ASCII.GetString(body.Span[end..]) : null,
            TraceParent = Activity.Current?.Id,
        };
    }

    private static int Start(ReadOnlySpan<byte> body)
    {
        var start = 0;
        while (start < body.Length && IsJsonWhitespace(body[start])) start++;
        return start;
    }

    private static int End(ReadOnlySpan<byte> body)
    {
        var end = body.Length;
        while (end > 0 && IsJsonWhitespace(body[end - 1])) end--;
        return end;
    }

    private static bool IsJsonWhitespace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r';
}
