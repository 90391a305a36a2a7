using System.Text.Json;
using System.Text.RegularExpressions;
using DbtRelay.Config.Nodes;

namespace DbtRelay.Config;

/// <summary>
/// A route condition on any field of the dbt event, by path (<c>data.environmentName</c>, <c>webhookName</c>, …):
/// equals one value, is one of / not one of several, or matches a glob or a regular expression. Patterns run on .NET's
/// non-backtracking engine, so no event can make a route take more than linear time.
/// </summary>
public sealed class FieldCondition
{
    /// <summary>The fields of a dbt event's body a path may start with.</summary>
    public static readonly string[] Roots = ["accountId", "webhookId", "webhooksID", "eventId", "timestamp", "eventType", "webhookName", "data"];

    private static readonly string[] Operators = ["equals", "oneOf", "notOneOf", "glob", "regex"];

    private readonly string[] _path;
    private readonly string _operator;
    private readonly IReadOnlyList<string> _values;
    private readonly Regex? _pattern;

    private FieldCondition(string path, string op, IReadOnlyList<string> values, Regex? pattern)
    {
        Path = path;
        _path = path.Split('.');
        _operator = op;
        _values = values;
        _pattern = pattern;
    }

    public string Path { get; }

    /// <summary>
    /// <c>"data.environmentName": "Production"</c> (equals), <c>[…]</c> (one of) or <c>{"notOneOf"|"glob"|"regex"|…: …}</c>.
    /// </summary>
    public static FieldCondition? Read(string path, ConfigNode node)
    {
        if (!ValidPath(path))
        {
            node.Error($"'{path}' is not a field of a dbt event: a path of names joined by dots, starting with one of {string.Join(", ", Roots)}");
            return null;
        }
        switch (node.Element.ValueKind)
        {
            case JsonValueKind.String:
                return node.Text(required: true) is { } value ? new FieldCondition(path, "equals", [value], null) : null;
            case JsonValueKind.Array:
                return Values(path, "oneOf", node);
            case JsonValueKind.Object:
                var names = node.Element.EnumerateObject().Select(p => p.Name).ToList();
                if (names is not [var op] || !Operators.Contains(op))
                {
                    node.Error($"must have exactly one of: {string.Join(", ", Operators)}");
                    return null;
                }
                return op switch
                {
                    "oneOf" or "notOneOf" => Values(path, op, node[op]),
                    "equals" => node[op].Text(required: true) is { } equals ? new FieldCondition(path, op, [equals], null) : null,
                    _ => Pattern(path, op, node[op]),
                };
            default:
                node.Error("must be a value, a list of values, or an object with one of: " + string.Join(", ", Operators));
                return null;
        }
    }

    private static bool ValidPath(string path) =>
        path.Split('.') is [var root, ..] parts && Roots.Contains(root) && parts.All(p => p.Length > 0 && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'));

    private static FieldCondition? Values(string path, string op, ConfigNode node)
    {
        var values = node.StringList();
        if (node.Element.ValueKind == JsonValueKind.Array && values.Count == 0 && node.Element.GetArrayLength() == 0) node.Error("must list at least one value");
        return values.Count == 0 ? null : new FieldCondition(path, op, values, null);
    }

    private static FieldCondition? Pattern(string path, string op, ConfigNode node)
    {
        if (node.Text(required: true) is not { } text) return null;
        var expression = op == "glob" ? "^" + Regex.Escape(text).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$" : text;
        try
        {
            return new FieldCondition(path, op, [text], new Regex(expression, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant));
        }
        catch (NotSupportedException)
        {
            node.Error("uses a construct that cannot run in linear time (backreferences, lookarounds, atomic groups); the relay only runs patterns that can");
        }
        catch (ArgumentException ex)
        {
            node.Error($"is not a valid regular expression: {ex.Message}");
        }
        return null;
    }

    /// <summary>Null when the event's field satisfies the condition; otherwise why not, in words.</summary>
    public string? WhyNot(JsonElement body)
    {
        var value = Lookup(body);
        var shown = value is null ? "(absent)" : $"'{(value.Length <= 80 ? value : value[..80] + "…")}'";
        return _operator switch
        {
            "equals" when value != _values[0] => $"{Path} {shown} is not '{_values[0]}'",
            "oneOf" when value is null || !_values.Contains(value) => $"{Path} {shown} is not one of [{string.Join(", ", _values)}]",
            "notOneOf" when value is not null && _values.Contains(value) => $"{Path} {shown} is one of [{string.Join(", ", _values)}]",
            "glob" or "regex" when value is null || !_pattern!.IsMatch(value) => $"{Path} {shown} does not match {_operator} '{_values[0]}'",
            _ => null,
        };
    }

    private string? Lookup(JsonElement element)
    {
        foreach (var part in _path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element)) return null;
        }
        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined or JsonValueKind.Object or JsonValueKind.Array => null,
            _ => element.GetRawText(),
        };
    }
}
