using System.Text.Json;

namespace DbtRelay.Webhooks;

/// <summary>
/// A JSON syntax error said the way a person fixes it: one 1-based position and what is wrong there, instead of
/// the parser's text (which suggests reader options and repeats the position 0-based).
/// </summary>
public sealed record JsonSyntaxError(long Line, long Position, string Reason)
{
    /// <summary>"line 38, position 7", or empty when the parser gave no position (0).</summary>
    public string Where => Line > 0 ? $"line {Line}, position {Position}" : "";

    public override string ToString() => Line > 0 ? $"{Where}: {Reason}" : Reason;

    public static JsonSyntaxError From(JsonException exception) => exception.LineNumber is { } line
        ? new(line + 1, (exception.BytePositionInLine ?? 0) + 1, Explain(exception.Message))
        : new(0, 0, Explain(exception.Message));

    private static string Explain(string message)
    {
        // The parser's message, without its "LineNumber: … | BytePositionInLine: …" tail.
        var text = message.Split(" LineNumber:", 2)[0].Trim();
        if (text.Contains("trailing comma", StringComparison.OrdinalIgnoreCase)) return "a comma before a closing ']' or '}' (JSON allows no trailing comma: remove it)";
        if (text.Contains("comment", StringComparison.OrdinalIgnoreCase) || text.StartsWith("'/'", StringComparison.Ordinal)) return "a comment (JSON has none: use a \"description\" field)";
        if (text.Contains("Expected depth to be zero", StringComparison.Ordinal) || text.Contains("end of data", StringComparison.OrdinalIgnoreCase))
            return "the text ends before every '{' and '[' is closed";
        if (text.Contains("is invalid after a value", StringComparison.Ordinal)) return $"{FirstQuoted(text)} after a value: a ',' is missing, or a character is out of place";
        if (text.Contains("is invalid after a property name", StringComparison.Ordinal)) return "a ':' is missing after a property name";
        if (text.Contains("is an invalid start of a property name", StringComparison.Ordinal)) return $"{FirstQuoted(text)} where a \"quoted\" property name should start";
        if (text.Contains("is an invalid start of a value", StringComparison.Ordinal)) return $"{FirstQuoted(text)} where a value should start (strings take double quotes)";
        if (text.Contains("additional text", StringComparison.OrdinalIgnoreCase) || text.Contains("after a single JSON value", StringComparison.Ordinal))
            return "more text after the end of the JSON value";
        return text.TrimEnd('.');
    }

    /// <summary>The character the parser quoted ('x'), for the sentence.</summary>
    private static string FirstQuoted(string text)
    {
        if (text.StartsWith("'''", StringComparison.Ordinal)) return "a single quote (')";
        var start = text.IndexOf('\'', StringComparison.Ordinal);
        var end = start < 0 ? -1 : text.IndexOf('\'', start + 1);
        return end > start ? $"'{text[(start + 1)..end]}'" : "a character";
    }
}
