namespace DbtRelay.History;

/// <summary>Which events to list: all filters AND together; <see cref="After"/> is a page's <c>next</c>.</summary>
public sealed record EventQuery(
    DateTimeOffset? Since = null,
    string? Status = null,
    string? JobId = null,
    string? Target = null,
    int Limit = EventQuery.DefaultLimit,
    string? After = null)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>
    /// Reads the API's query string values; a list of problems (empty when valid) so a typo is a 400 that says what
    /// is accepted, never an empty list that looks like "nothing happened".
    /// </summary>
    public static (EventQuery? Query, string? Problem) Parse(string? since, string? status, string? jobId, string? target, string? limit, string? after, DateTimeOffset now)
    {
        DateTimeOffset? from = null;
        if (!string.IsNullOrEmpty(since))
        {
            if (TryRelative(since, out var ago)) from = now - ago;
            else if (DateTimeOffset.TryParse(since, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)) from = at;
            else return (null, $"since '{since}' is neither a time (2026-11-22T10:00:00Z) nor an age (30m, 24h, 7d)");
        }
        if (!string.IsNullOrEmpty(status) && !EventStatus.All.Contains(status))
        {
            return (null, $"status '{status}' is not one of {string.Join(", ", EventStatus.All)}");
        }
        var size = DefaultLimit;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
        {
            return (null, $"limit must be a number from 1 to {MaxLimit}");
        }
        return (new EventQuery(from, NullIfEmpty(status), NullIfEmpty(jobId), NullIfEmpty(target), size, NullIfEmpty(after)), null);
    }

    private static bool TryRelative(string text, out TimeSpan age)
    {
        age = default;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) return false;
        age = text[^1] switch
        {
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => TimeSpan.MinValue,
        };
        return age != TimeSpan.MinValue;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public bool Matches(EventTimeline timeline) =>
        (Status is null || timeline.Status == Status)
        && (JobId is null || timeline.JobId == JobId)
        && (Target is null || timeline.Targets.Any(t => t.Target == Target));
}
