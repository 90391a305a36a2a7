using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using DbtRelay.Config.Nodes;

namespace DbtRelay.Targets;

/// <summary>
/// A request body written in relay.json as JSON whose every string (keys stay literal) is a template, so a value
/// always lands JSON-escaped. Written as one string, it is the body's text for the two other content types whose
/// values the relay can escape: <c>application/x-www-form-urlencoded</c> (values percent-encoded, so a value can
/// never add a field) and <c>text/plain</c> (values as they are: plain text has no structure to break). Any other
/// content type takes a body without placeholders only.
/// </summary>
public sealed class JsonBodyTemplate
{
    public const string FormContentType = "application/x-www-form-urlencoded";
    public const string TextContentType = "text/plain";

    private readonly JsonElement _body;
    private readonly Dictionary<string, Template> _strings;
    private readonly TemplateEscape? _text;

    private JsonBodyTemplate(JsonElement body, Dictionary<string, Template> strings, TemplateEscape? text)
    {
        _body = body;
        _strings = strings;
        _text = text;
    }

    public IEnumerable<string> SecretNames => _strings.Values.SelectMany(t => t.SecretNames);

    public static JsonBodyTemplate? Parse(ConfigNode node, string contentType, IReadOnlyDictionary<string, string> vars)
    {
        if (!node.Exists) return null;
        var body = node.Element.Clone();
        var strings = new Dictionary<string, Template>(StringComparer.Ordinal);
        Collect(body, node.Path, node.Problems, vars, strings);
        var mediaType = contentType.Split(';')[0].Trim();
        if (mediaType.Contains("json", StringComparison.OrdinalIgnoreCase)) return new JsonBodyTemplate(body, strings, text: null);
        if (body.ValueKind != JsonValueKind.String)
        {
            node.Error($"is sent as JSON, but contentType is '{contentType}': write the body as one string, or use a JSON content type");
            return null;
        }
        TemplateEscape? escape = mediaType.ToLowerInvariant() switch
        {
            FormContentType => TemplateEscape.Url,
            TextContentType => TemplateEscape.None,
            _ when strings.Values.Any(t => t.HasPlaceholders) => null,
            _ => TemplateEscape.None, // nothing to escape
        };
        if (escape is null)
        {
            node.Error($"has placeholders, but the relay cannot escape values for contentType '{contentType}': use a JSON type, {FormContentType} or {TextContentType}");
            return null;
        }
        return new JsonBodyTemplate(body, strings, escape);
    }

    /// <summary>The body bytes exactly as sent (and signed).</summary>
    public byte[] Render(TemplateValues values)
    {
        if (_text is { } escape) return Encoding.UTF8.GetBytes(_strings[_body.GetString()!].Render(values, escape));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(writer, _body, values);
        }
        return buffer.ToArray();
    }

    private static void Collect(JsonElement element, string path, ConfigProblems problems, IReadOnlyDictionary<string, string> vars, Dictionary<string, Template> into)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                if (Template.Parse(element.GetString()!, path, problems, vars) is { } template) into[element.GetString()!] = template;
                break;
            case JsonValueKind.Object:
                foreach (var p in element.EnumerateObject()) Collect(p.Value, ConfigNode.ChildPath(path, p.Name), problems, vars, into);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray()) Collect(item, $"{path}[{i++}]", problems, vars, into);
                break;
        }
    }

    private void Write(Utf8JsonWriter writer, JsonElement element, TemplateValues values)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                // The writer escapes the rendered text, so quotes and backslashes in values cannot break out.
                writer.WriteStringValue(_strings[element.GetString()!].Render(values, TemplateEscape.None));
                break;
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var p in element.EnumerateObject())
                {
                    writer.WritePropertyName(p.Name);
                    Write(writer, p.Value, values);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray()) Write(writer, item, values);
                writer.WriteEndArray();
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
