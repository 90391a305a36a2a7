using System.Collections;

namespace DbtRelay.Events;

/// <summary>
/// The fields every pipeline log line carries (EventId, RunId, JobId, and in delivery Target and Attempt): key/value
/// pairs for structured loggers (JSON console, Application Insights), <c>EventId=…, RunId=…</c> as text.
/// </summary>
public sealed class EventLogScope : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly KeyValuePair<string, object?>[] _fields;

    public EventLogScope(EventEnvelope envelope, string? target = null, int? attempt = null)
    {
        List<KeyValuePair<string, object?>> fields = [new("EventId", envelope.EventId), new("RunId", envelope.RunId), new("JobId", envelope.JobId)];
        if (target is not null) fields.Add(new("Target", target));
        if (attempt is not null) fields.Add(new("Attempt", attempt));
        _fields = [.. fields];
    }

    public int Count => _fields.Length;

    public KeyValuePair<string, object?> this[int index] => _fields[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_fields).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => string.Join(", ", _fields.Where(f => f.Value is not null).Select(f => $"{f.Key}={f.Value}"));
}
