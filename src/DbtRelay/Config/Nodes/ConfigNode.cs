using System.Text.Json;
using DbtRelay.Secrets;

namespace DbtRelay.Config.Nodes;

/// <summary>
/// A position in relay.json: reads typed values and records a path-located error for each one that is missing or
/// wrong, instead of stopping at the first.
/// </summary>
public readonly record struct ConfigNode(JsonElement Element, string Path, ConfigProblems Problems)
{
    public ConfigNode this[string property] => new(
        Element.ValueKind == JsonValueKind.Object && Element.TryGetProperty(property, out var value) ? value : default,
        ChildPath(Path, property), Problems);

    public ConfigNode At(int index) => new(Element[index], $"{Path}[{index}]", Problems);

    public bool Exists => Element.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Null);

    public static string ChildPath(string path, string property) =>
        property.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? $"{path}.{property}" : $"{path}['{property}']";

    public void Error(string message) => Problems.Error(Path, message);
    public void Warning(string message) => Problems.Warning(Path, message);

    public bool ExpectObject(bool required = true)
    {
        if (Element.ValueKind == JsonValueKind.Object) return true;
        if (Exists || required) Error(Exists ? "must be an object" : "is required");
        return false;
    }

    /// <summary>Unknown properties are errors: a typo such as "conectionId" must not silently fall back to a default.</summary>
    public void AllowOnly(params string[] names)
    {
        if (Element.ValueKind != JsonValueKind.Object) return;
        foreach (var property in Element.EnumerateObject())
        {
            if (property.Name.StartsWith('$')) continue; // "$schema"
            if (!names.Contains(property.Name)) Problems.Error(ChildPath(Path, property.Name), $"unknown property (expected one of: {string.Join(", ", names)})");
        }
    }

    public string? Text(bool required)
    {
        if (Element.ValueKind == JsonValueKind.String && Element.GetString() is { Length: > 0 } s) return s;
        if (Exists) Error("must be a non-empty string");
        else if (required) Error("is required");
        return null;
    }

    public long? Number(bool required, long min = long.MinValue, long max = long.MaxValue)
    {
        long value;
        if (Element.ValueKind == JsonValueKind.Number && Element.TryGetInt64(out value))
        {
            if (value >= min && value <= max) return value;
            Error($"must be between {min} and {max}");
            return null;
        }
        // A number in quotes is refused, as relay.schema.json refuses it: one verdict whichever checks the file.
        if (Exists) Error(Element.ValueKind == JsonValueKind.String ? "must be a whole number, not a string (remove the quotes)" : "must be a whole number");
        else if (required) Error("is required");
        return null;
    }

    /// <summary>A duration written as a number and a unit: <c>"30s"</c>, <c>"10m"</c>, <c>"6h"</c>, <c>"1d"</c>.</summary>
    public TimeSpan? Duration(TimeSpan min, TimeSpan max)
    {
        var text = Text(required: false);
        if (text is null) return null;
        var unit = text[^1];
        if (!long.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var amount)
            || unit is not ('s' or 'm' or 'h' or 'd'))
        {
            Error($"'{text}' is not a duration (a whole number and s, m, h or d: \"30s\", \"10m\", \"6h\")");
            return null;
        }
        var value = unit switch
        {
            's' => TimeSpan.FromSeconds(Math.Min(amount, 1_000_000_000)),
            'm' => TimeSpan.FromMinutes(Math.Min(amount, 100_000_000)),
            'h' => TimeSpan.FromHours(Math.Min(amount, 1_000_000)),
            _ => TimeSpan.FromDays(Math.Min(amount, 100_000)),
        };
        if (value >= min && value <= max) return value;
        Error($"must be between {Format(min)} and {Format(max)}");
        return null;
    }

    /// <summary>A duration as relay.json writes it (the largest whole unit).</summary>
    public static string Format(TimeSpan value) =>
        value.TotalDays >= 1 && value.Ticks % TimeSpan.TicksPerDay == 0 ? $"{value.TotalDays:0}d"
        : value.TotalHours >= 1 && value.Ticks % TimeSpan.TicksPerHour == 0 ? $"{value.TotalHours:0}h"
        : value.TotalMinutes >= 1 && value.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{value.TotalMinutes:0}m"
        : $"{value.TotalSeconds:0}s";

    public bool? Bool()
    {
        if (Element.ValueKind is JsonValueKind.True or JsonValueKind.False) return Element.GetBoolean();
        if (Exists) Error("must be true or false");
        return null;
    }

    public string? OneOf(bool required, string fallback, params string[] allowed)
    {
        var value = Text(required);
        if (value is null) return Exists ? null : fallback;
        if (allowed.Contains(value, StringComparer.OrdinalIgnoreCase)) return value.ToLowerInvariant();
        Error($"must be one of: {string.Join(", ", allowed)}");
        return null;
    }

    /// <summary>An absolute http(s) URL; plain http only when it points at this machine.</summary>
    public Uri? Url(bool required)
    {
        var text = Text(required);
        if (text is null) return null;
        if (ValidUrl(text, out var problem) is { } uri) return uri;
        Error(problem);
        return null;
    }

    public static Uri? ValidUrl(string text, out string problem)
    {
        problem = "";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || string.IsNullOrEmpty(uri.Host))
        {
            problem = $"'{text}' is not an absolute http(s) URL";
            return null;
        }
        if (uri.Scheme == "http" && !uri.IsLoopback)
        {
            problem = $"'{text}' must use https (plain http is allowed only for localhost)";
            return null;
        }
        return uri;
    }

    /// <summary>A secret reference: a name in the secret store, never the secret itself.</summary>
    public string? SecretName(bool required)
    {
        var name = Text(required);
        if (name is null) return null;
        if (SecretNames.IsValid(name)) return name;
        Error($"'{Redact(name)}' is not a secret name ({SecretNames.Rule}); relay.json names secrets, it never holds them");
        return null;
    }

    public IReadOnlyList<string> StringList()
    {
        if (!Exists) return [];
        if (Element.ValueKind != JsonValueKind.Array)
        {
            Error("must be an array");
            return [];
        }
        var values = new List<string>();
        for (var i = 0; i < Element.GetArrayLength(); i++)
        {
            var item = At(i);
            var text = item.Element.ValueKind switch
            {
                JsonValueKind.String => item.Element.GetString(),
                JsonValueKind.Number => item.Element.GetRawText(),
                _ => null,
            };
            if (string.IsNullOrWhiteSpace(text)) item.Error("must be a string or a number");
            else values.Add(text);
        }
        return values;
    }

    // A value that is not a valid name may well be a pasted secret: show only its shape.
    private static string Redact(string value) => value.Length <= 4 ? new string('*', value.Length) : $"{value[..2]}…({value.Length} chars)";
}
