using System.Text.Json;
using System.Text.Json.Serialization;

namespace DbtRelay.Webhooks;

/// <summary>
/// What intake puts on queue <c>dbt-events</c>: the dbt body verbatim (the signed bytes) plus what intake learned.
/// </summary>
public sealed record EventEnvelope
{
    public const int CurrentVersion = 1;

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

    /// <summary>The raw body as dbt signed it, carried as a JSON string (lossless for the UTF-8 JSON dbt sends).</summary>
    [JsonConverter(typeof(Utf8StringConverter))]
    public required ReadOnlyMemory<byte> Body { get; init; }

    public static EventEnvelope From(DbtEventFacts facts, string webhook, DateTimeOffset receivedAt, ReadOnlyMemory<byte> body) => new()
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
        Body = body,
    };
}

/// <summary>Writes UTF-8 bytes as a JSON string without a UTF-16 round trip, and reads them back.</summary>
internal sealed class Utf8StringConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("Expected the body as a JSON string.");
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var buffer = new byte[length];
        var written = reader.CopyString(buffer);
        return buffer.AsMemory(0, written);
    }

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.Span);
}
