using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace DbtRelay.Events;

/// <summary>
/// Carries the body as the JSON object itself rather than as an escaped string, so a queued event is the body's
/// size plus its small fields whatever characters it holds (escaping could multiply it up to six times). Intake has
/// checked the object is strict JSON, so it is written unvalidated. Reads the string form of version 1 too (where
/// the whole signed body, whitespace included, was the string).
/// </summary>
internal sealed class RawJsonObjectConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    /// <summary>
    /// The whole message being read on this thread, set by <see cref="Read{T}"/>: the body is then sliced out of it
    /// after the reader skips over the object, instead of being parsed into a JsonDocument (a large share of the
    /// pipeline's CPU under load, since every route and delivery reads an envelope).
    /// </summary>
    [ThreadStatic]
    private static ReadOnlyMemory<byte> t_message;

    /// <summary>Deserializes a whole message held in <paramref name="json"/>, letting the body be sliced from it.</summary>
    public static T? Read<T>(ReadOnlyMemory<byte> json, JsonTypeInfo<T> typeInfo)
    {
        t_message = json;
        try
        {
            return JsonSerializer.Deserialize(json.Span, typeInfo);
        }
        finally
        {
            t_message = default;
        }
    }

    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
            if (!t_message.IsEmpty && !reader.HasValueSequence)
            {
                // Token indexes count from the start of the message the reader was given, which is t_message.
                var start = checked((int)reader.TokenStartIndex);
                reader.Skip();
                return t_message[start..checked((int)reader.BytesConsumed)].ToArray();
            }
            using var body = JsonDocument.ParseValue(ref reader);
            return JsonMarshal.GetRawUtf8Value(body.RootElement).ToArray();
        }
        if (reader.TokenType != JsonTokenType.String) throw new JsonException("Expected the body as a JSON object.");
        var length = reader.HasValueSequence ? checked((int)reader.ValueSequence.Length) : reader.ValueSpan.Length;
        var buffer = new byte[length];
        var written = reader.CopyString(buffer);
        return buffer.AsMemory(0, written);
    }

    public override void Write(Utf8JsonWriter writer, ReadOnlyMemory<byte> value, JsonSerializerOptions options) =>
        writer.WriteRawValue(value.Span, skipInputValidation: true);
}
