using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using DbtRelay.Config.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// A text with <c>{{path}}</c> placeholders, parsed and checked once at startup. Paths: any field of the dbt body
/// (<c>eventId</c>, <c>eventType</c>, <c>data.runId</c>, …), <c>vars.NAME</c> from relay.json, <c>secrets.NAME</c>, and
/// in an <c>onFailure</c> call <c>downstream.target|id|state|error|url</c> (empty elsewhere).
/// </summary>
public sealed partial class Template
{
    private static readonly string[] DbtTopLevel =
        ["accountId", "webhookId", "webhooksID", "eventId", "timestamp", "eventType", "webhookName", "data", "downstream"];

    /// <summary>The fields of a <see cref="DownstreamNotice"/> a template can name.</summary>
    public static readonly string[] DownstreamFields = ["target", "id", "state", "error", "url"];

    private readonly (string? Literal, string[]? Path)[] _segments;

    private Template(string source, (string?, string[]?)[] segments)
    {
        Source = source;
        _segments = segments;
        SecretNames = segments.Where(s => s.Item2 is ["secrets", _]).Select(s => s.Item2![1]).Distinct().ToArray();
    }

    public string Source { get; }

    public IReadOnlyList<string> SecretNames { get; }

    public bool HasPlaceholders => _segments.Any(s => s.Path is not null);

    public static Template? Parse(string text, string path, ConfigProblems problems, IReadOnlyDictionary<string, string> vars)
    {
        var segments = new List<(string?, string[]?)>();
        var ok = true;
        var position = 0;
        foreach (Match match in Placeholder().Matches(text))
        {
            if (match.Index > position) segments.Add((text[position..match.Index], null));
            position = match.Index + match.Length;
            var parts = match.Groups[1].Value.Split('.');
            var problem = parts switch
            {
                ["vars", var name] when !vars.ContainsKey(name) => $"placeholder {match.Value} names a var that relay.json 'vars' does not define",
                ["vars", _] => null,
                ["secrets", var name] when !Secrets.SecretNames.IsValid(name) => $"placeholder {match.Value} is not a valid secret name ({Secrets.SecretNames.Rule})",
                ["secrets", _] => null,
                ["vars" or "secrets", ..] => $"placeholder {match.Value} must be vars.NAME or secrets.NAME",
                ["downstream", var field] when DownstreamFields.Contains(field) => null,
                ["downstream", ..] => $"placeholder {match.Value} must be downstream.{string.Join("|", DownstreamFields)}",
                [var root, ..] when !DbtTopLevel.Contains(root) =>
                    $"placeholder {match.Value} is unknown; use a dbt event field ({string.Join(", ", DbtTopLevel)}, data.*), vars.NAME or secrets.NAME",
                _ => null,
            };
            if (problem is not null)
            {
                problems.Error(path, problem);
                ok = false;
            }
            segments.Add((null, parts));
        }
        if (position < text.Length) segments.Add((text[position..], null));
        if (segments.Any(s => s.Item1?.Contains("{{", StringComparison.Ordinal) == true))
        {
            problems.Error(path, "has a '{{' that does not open a valid {{placeholder}}");
            ok = false;
        }
        return ok ? new Template(text, [.. segments]) : null;
    }

    public string Render(TemplateValues values, TemplateEscape escape)
    {
        var builder = new StringBuilder(Source.Length + 64);
        foreach (var (literal, path) in _segments)
        {
            if (literal is not null)
            {
                builder.Append(literal);
                continue;
            }
            var value = values.Lookup(path!) ?? "";
            builder.Append(escape switch
            {
                TemplateEscape.Json => JsonEncodedText.Encode(value, JavaScriptEncoder.UnsafeRelaxedJsonEscaping).Value,
                TemplateEscape.Url => Uri.EscapeDataString(value),
                _ => value,
            });
        }
        return builder.ToString();
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*)\s*\}\}")]
    private static partial Regex Placeholder();
}
