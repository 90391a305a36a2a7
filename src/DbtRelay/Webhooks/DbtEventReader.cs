using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Webhooks;

public static class DbtEventReader
{
    /// <summary>Longest id or name read from an event (dbt's are under 40 characters); bounds the queued size.</summary>
    public const int MaxFieldLength = 256;

    /// <summary>
    /// Reads the routing facts in one forward pass without building a DOM. Unknown fields are skipped but still
    /// validated: the body must be exactly one strict JSON object (no comments, trailing commas or trailing content)
    /// whose strings all decode (no lone surrogate escapes), because an accepted event must stay deliverable. Ids may
    /// be strings or numbers (dbt sends strings in <c>data</c>, numbers at the top level).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out DbtEventFacts? facts, out PayloadProblem? problem)
    {
        facts = null;
        problem = null;
        string? eventId = null, eventType = null, webhookId = null;
        string? jobId = null, runId = null, environmentId = null, projectId = null, runStatus = null;
        long? accountId = null;
        int? statusCode = null;
        DateTimeOffset? timestamp = null;
        var badTimestamp = false;
        var sawData = false;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = new("not_an_object", "The body must be a JSON object.");
                return false;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                CheckDecodable(ref reader);
                if (reader.ValueTextEquals("eventId"u8)) { reader.Read(); eventId = ScalarText(ref reader); }
                else if (reader.ValueTextEquals("eventType"u8)) { reader.Read(); eventType = ScalarText(ref reader); }
                else if (reader.ValueTextEquals("accountId"u8)) { reader.Read(); accountId = ScalarLong(ref reader); }
                else if (reader.ValueTextEquals("timestamp"u8))
                {
                    reader.Read();
                    var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    if (reader.TokenType is not JsonTokenType.String) SkipValue(ref reader);
                    if (DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture,
                            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var at)) timestamp = at;
                    else badTimestamp = true;
                }
                else if (reader.ValueTextEquals("webhookId"u8) || reader.ValueTextEquals("webhooksID"u8)) { reader.Read(); webhookId = ScalarText(ref reader); }
                else if (reader.ValueTextEquals("data"u8))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartObject)
                    {
                        problem = new("data_not_object", "The 'data' field must be a JSON object.");
                        return false;
                    }
                    sawData = true;
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        CheckDecodable(ref reader);
                        if (reader.ValueTextEquals("jobId"u8)) { reader.Read(); jobId = ScalarText(ref reader); }
                        else if (reader.ValueTextEquals("runId"u8)) { reader.Read(); runId = ScalarText(ref reader); }
                        else if (reader.ValueTextEquals("environmentId"u8)) { reader.Read(); environmentId = ScalarText(ref reader); }
                        else if (reader.ValueTextEquals("projectId"u8)) { reader.Read(); projectId = ScalarText(ref reader); }
                        else if (reader.ValueTextEquals("runStatus"u8)) { reader.Read(); runStatus = ScalarText(ref reader); }
                        else if (reader.ValueTextEquals("runStatusCode"u8)) { reader.Read(); statusCode = (int?)ScalarLong(ref reader); }
                        else { reader.Read(); SkipValue(ref reader); }
                    }
                }
                else { reader.Read(); SkipValue(ref reader); }
            }
            // Only whitespace may follow the object; Read throws on anything else.
            if (reader.Read()) throw new JsonException("Content follows the JSON object.");
        }
        catch (JsonException ex)
        {
            problem = new("invalid_json", $"The body is not valid JSON: {JsonSyntaxError.From(ex)}.");
            return false;
        }
        catch (InvalidOperationException)
        {
            problem = new("invalid_json", "The body is not valid JSON text: a string holds an escaped lone surrogate (such as \\ud800).");
            return false;
        }

        if (string.IsNullOrWhiteSpace(eventId) || string.IsNullOrWhiteSpace(eventType) || !sawData)
        {
            string?[] missing = [string.IsNullOrWhiteSpace(eventId) ? "eventId" : null, string.IsNullOrWhiteSpace(eventType) ? "eventType" : null, sawData ? null : "data"];
            problem = new("not_a_dbt_event", $"The body is not a dbt Cloud event: missing {string.Join(", ", missing.OfType<string>())}.");
            return false;
        }
        if (badTimestamp)
        {
            problem = new("invalid_timestamp", "The body's 'timestamp' is not a time (dbt Cloud sends ISO 8601, such as 2026-11-22T10:15:32.123Z).");
            return false;
        }
        // Checked without allocating first: this runs on every accepted request.
        if (AnyTooLong(eventId, eventType, webhookId, jobId, runId, environmentId, projectId, runStatus))
        {
            var tooLong = new (string Name, string? Value)[]
            {
                ("eventId", eventId), ("eventType", eventType), ("webhookId", webhookId), ("data.jobId", jobId), ("data.runId", runId),
                ("data.environmentId", environmentId), ("data.projectId", projectId), ("data.runStatus", runStatus),
            }.Where(f => f.Value?.Length > MaxFieldLength).Select(f => f.Name);
            problem = new("field_too_long", $"{string.Join(", ", tooLong)} exceeds {MaxFieldLength} characters; dbt Cloud's ids are far shorter.");
            return false;
        }
        facts = new DbtEventFacts(eventId!, eventType!, accountId, webhookId, jobId, runId, environmentId, projectId, runStatus, statusCode, timestamp);
        return true;
    }

    private static bool AnyTooLong(params ReadOnlySpan<string?> values)
    {
        foreach (var value in values)
        {
            if (value?.Length > MaxFieldLength) return true;
        }
        return false;
    }

    /// <summary>
    /// An escaped lone surrogate (<c>\ud800</c>) is valid JSON grammar but no text: decoding it throws. Only escaped
    /// strings can hold one, and those are rare, so the check costs nothing on dbt's bodies.
    /// </summary>
    private static void CheckDecodable(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped && reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName) _ = reader.GetString();
    }

    /// <summary>Skips the current value, checking every string in it like <see cref="CheckDecodable"/>.</summary>
    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
        {
            CheckDecodable(ref reader);
            return;
        }
        var depth = reader.CurrentDepth;
        while (reader.Read() && !(reader.CurrentDepth == depth && reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray))
        {
            CheckDecodable(ref reader);
        }
    }

    private static string? ScalarText(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return reader.GetString();
            case JsonTokenType.Number:
                return System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                SkipValue(ref reader);
                return null;
            default:
                return null;
        }
    }

    private static long? ScalarLong(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var n)) return n;
        if (reader.TokenType == JsonTokenType.String && long.TryParse(reader.GetString(), out n)) return n;
        SkipValue(ref reader);
        return null;
    }
}
