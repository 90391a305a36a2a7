using System.Text.Json;

namespace DbtRelay.Events;

/// <summary>
/// Reads a version-3 envelope without tokenizing its body a second time. Version 3 writes the body last, so once the
/// reader reaches it the body is everything up to the envelope's closing brace: intake checked it strictly, and the
/// serializer would only re-read about a kilobyte to skip it (over half of reading an envelope back). Anything else
/// (older versions, a field of an unexpected type) returns null and goes through the serializer, which says what is
/// wrong. A message that says version 3 is taken to be one this relay wrote: the queues are its own.
/// </summary>
internal static class EventEnvelopeReader
{
    public static EventEnvelope? TryRead(ReadOnlyMemory<byte> json)
    {
        try
        {
            return Read(json);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null; // malformed, or a string that does not decode: the serializer reports it
        }
    }

    private static EventEnvelope? Read(ReadOnlyMemory<byte> json)
    {
        var message = json.Span;
        // Not the final block: the reader stops at the body and never needs to see the end of the message.
        var reader = new Utf8JsonReader(message, isFinalBlock: false, default);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;

        int? version = null, runStatusCode = null;
        long? accountId = null;
        DateTimeOffset? receivedAt = null;
        string? eventId = null, eventType = null, webhook = null, jobId = null, runId = null, environmentId = null;
        string? projectId = null, runStatus = null, traceParent = null, bodyLeading = null, bodyTrailing = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var ok = true;
            if (reader.ValueTextEquals("body"u8))
            {
                if (version != EventEnvelope.CurrentVersion || !reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
                if (eventId is null || eventType is null || webhook is null || receivedAt is null) return null;
                if (BodyEnd(message) is not { } end || end <= reader.TokenStartIndex) return null;
                return new EventEnvelope
                {
                    Version = version.Value,
                    EventId = eventId,
                    EventType = eventType,
                    Webhook = webhook,
                    ReceivedAt = receivedAt.Value,
                    AccountId = accountId,
                    JobId = jobId,
                    RunId = runId,
                    EnvironmentId = environmentId,
                    ProjectId = projectId,
                    RunStatus = runStatus,
                    RunStatusCode = runStatusCode,
                    TraceParent = traceParent,
                    BodyLeading = bodyLeading,
                    BodyTrailing = bodyTrailing,
                    // Copied, as the serializer's path does: the envelope never holds on to the caller's buffer.
                    Body = json[(int)reader.TokenStartIndex..end].ToArray(),
                };
            }
            if (reader.ValueTextEquals("v"u8)) ok = Int(ref reader, out version);
            else if (reader.ValueTextEquals("eventId"u8)) ok = Text(ref reader, out eventId);
            else if (reader.ValueTextEquals("eventType"u8)) ok = Text(ref reader, out eventType);
            else if (reader.ValueTextEquals("webhook"u8)) ok = Text(ref reader, out webhook);
            else if (reader.ValueTextEquals("receivedAt"u8)) ok = Time(ref reader, out receivedAt);
            else if (reader.ValueTextEquals("accountId"u8)) ok = Long(ref reader, out accountId);
            else if (reader.ValueTextEquals("jobId"u8)) ok = Text(ref reader, out jobId);
            else if (reader.ValueTextEquals("runId"u8)) ok = Text(ref reader, out runId);
            else if (reader.ValueTextEquals("environmentId"u8)) ok = Text(ref reader, out environmentId);
            else if (reader.ValueTextEquals("projectId"u8)) ok = Text(ref reader, out projectId);
            else if (reader.ValueTextEquals("runStatus"u8)) ok = Text(ref reader, out runStatus);
            else if (reader.ValueTextEquals("runStatusCode"u8)) ok = Int(ref reader, out runStatusCode);
            else if (reader.ValueTextEquals("traceParent"u8)) ok = Text(ref reader, out traceParent);
            else if (reader.ValueTextEquals("bodyLeading"u8)) ok = Text(ref reader, out bodyLeading);
            else if (reader.ValueTextEquals("bodyTrailing"u8)) ok = Text(ref reader, out bodyTrailing);
            else ok = reader.TrySkip();
            if (!ok) return null;
        }
        return null;
    }

    /// <summary>Where the body ends: just past the last but one closing brace (the last closes the envelope).</summary>
    private static int? BodyEnd(ReadOnlySpan<byte> message)
    {
        var end = message.TrimEnd(" \t\r\n"u8);
        if (end.IsEmpty || end[^1] != (byte)'}') return null;
        end = end[..^1].TrimEnd(" \t\r\n"u8);
        return end.IsEmpty || end[^1] != (byte)'}' ? null : end.Length;
    }

    private static bool Text(ref Utf8JsonReader reader, out string? value)
    {
        value = null;
        if (!reader.Read()) return false;
        if (reader.TokenType == JsonTokenType.Null) return true;
        if (reader.TokenType != JsonTokenType.String) return false;
        value = reader.GetString();
        return true;
    }

    private static bool Time(ref Utf8JsonReader reader, out DateTimeOffset? value)
    {
        value = null;
        if (!reader.Read() || reader.TokenType != JsonTokenType.String || !reader.TryGetDateTimeOffset(out var time)) return false;
        value = time;
        return true;
    }

    private static bool Long(ref Utf8JsonReader reader, out long? value)
    {
        value = null;
        if (!reader.Read()) return false;
        if (reader.TokenType == JsonTokenType.Null) return true;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var n)) return false;
        value = n;
        return true;
    }

    private static bool Int(ref Utf8JsonReader reader, out int? value)
    {
        value = null;
        if (!reader.Read()) return false;
        if (reader.TokenType == JsonTokenType.Null) return true;
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var n)) return false;
        value = n;
        return true;
    }
}
