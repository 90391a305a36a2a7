using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace DbtRelay.Webhooks;

/// <summary>
/// Carries the body as the JSON object itself rather than as an escaped string, so a queued event is the body's
/// size plus its small fields whatever characters it holds (escaping could multiply it up to six times). Intake has
/// checked the object is strict JSON, so it is written unvalidated. Reads the string form of version 1 too (where
/// the whole signed body, whitespace included, was the string).
/// </summary>
internal sealed class RawJsonObjectConverter : JsonConverter<ReadOnlyMemory<byte>>
{
    public override ReadOnlyMemory<byte> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.StartObject)
        {
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
