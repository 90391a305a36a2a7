using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DbtRelay.Events;

/// <summary>How the event envelope (every queue message's event) is written and read, and the options every layer's JSON uses.</summary>
public static class EventJson
{
    /// <summary>
    /// Relaxed escaping keeps queue messages small (dbt bodies are mostly ASCII with many quotes) while still
    /// producing valid JSON; messages are never embedded in HTML. Every layer that writes relay JSON uses these.
    /// </summary>
    public static JsonSerializerOptions Options() => new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    internal static readonly EventJsonContext Context = new(Options());

    /// <summary>Reads a whole message that carries an envelope (a delivery, a dead letter), body included.</summary>
    public static T? Read<T>(ReadOnlyMemory<byte> json, JsonTypeInfo<T> typeInfo) => RawJsonObjectConverter.Read(json, typeInfo);

    public static byte[] Serialize(EventEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, Context.EventEnvelope);

    public static EventEnvelope DeserializeEnvelope(ReadOnlyMemory<byte> json) =>
        EventEnvelopeReader.TryRead(json)
        ?? RawJsonObjectConverter.Read(json, Context.EventEnvelope)
        ?? throw new JsonException("The queue message is not an event envelope (it was JSON null).");
}
