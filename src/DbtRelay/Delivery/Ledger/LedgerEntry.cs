using System.Buffers;
using System.Text.Json;

namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// A ledger item as stored, readable in Storage Explorer when someone asks "did this sync fire?":
/// <c>{"state":"leased","until":"…"}</c> or <c>{"state":"completed","detail":"…"}</c>. Written and read by hand
/// because every route and every delivery claims and completes one, and the serializer's constructor path cost more
/// than the rest of a claim.
/// </summary>
public sealed record LedgerEntry(string State, DateTimeOffset? Until, string? Detail)
{
    public const string LeasedState = "leased";
    public const string CompletedState = "completed";

    public bool IsCompleted => State == CompletedState;

    public static LedgerEntry Leased(DateTimeOffset until) => new(LeasedState, until, null);

    public static LedgerEntry Completed(string detail) => new(CompletedState, null, detail);

    // One writer and buffer per thread, as the serializer keeps for itself: a fresh pair per entry cost more than the writing.
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    public byte[] ToJson()
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteString("state"u8, State);
        if (Until is { } until) writer.WriteString("until"u8, until);
        if (Detail is not null) writer.WriteString("detail"u8, Detail);
        writer.WriteEndObject();
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads an entry written by any version (fields in any order, unknown ones skipped).</summary>
    public static LedgerEntry Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("A ledger entry is not a JSON object.");
        string? state = null, detail = null;
        DateTimeOffset? until = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("state"u8)) state = NextString(ref reader);
            else if (reader.ValueTextEquals("detail"u8)) detail = NextString(ref reader);
            else if (reader.ValueTextEquals("until"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.Null) until = null;
                else if (reader.TokenType == JsonTokenType.String && reader.TryGetDateTimeOffset(out var time)) until = time;
                else throw new JsonException("A ledger entry's 'until' is not a time.");
            }
            else reader.Skip();
        }
        return new LedgerEntry(state ?? throw new JsonException("A ledger entry has no state."), until, detail);
    }

    private static string? NextString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.Null ? null : reader.GetString();
    }
}
