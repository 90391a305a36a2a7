namespace DbtRelay.Targets;

public enum TemplateEscape
{
    /// <summary>Inserted as is (header values; the HTTP stack refuses line breaks).</summary>
    None,
    /// <summary>JSON-string escaped (a value can never end the string it sits in).</summary>
    Json,
    /// <summary>Percent-encoded (a value can never add a path segment, query or fragment).</summary>
    Url,
}
