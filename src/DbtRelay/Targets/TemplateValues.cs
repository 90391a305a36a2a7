using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Targets;

/// <summary>The values placeholders draw from for one delivery. Parses the dbt body on first use.</summary>
public sealed class TemplateValues(EventEnvelope envelope, IReadOnlyDictionary<string, string> vars, IReadOnlyDictionary<string, string> secrets, DownstreamNotice? notice = null)
    : IDisposable
{
    private JsonDocument? _body;

    public string? Lookup(IReadOnlyList<string> path)
    {
        switch (path)
        {
            case ["vars", var name]: return vars.GetValueOrDefault(name);
            case ["secrets", var name]: return secrets.GetValueOrDefault(name);
            case ["eventId"]: return envelope.EventId;
            case ["eventType"]: return envelope.EventType;
            case ["downstream", var field]:
                return field switch
                {
                    "target" => notice?.Target,
                    "id" => notice?.RunId,
                    "state" => notice?.State,
                    "error" => notice?.Error,
                    "url" => notice?.Url,
                    _ => null,
                };
        }
        _body ??= JsonDocument.Parse(envelope.Body);
        var element = _body.RootElement;
        foreach (var part in path)
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(part, out element)) return null;
        }
        return element.ValueKind switch
        {
            JsonValueKind.String => element.GetString(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => element.GetRawText(),
        };
    }

    public void Dispose() => _body?.Dispose();
}
