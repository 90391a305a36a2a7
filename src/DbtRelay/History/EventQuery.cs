using System.Text.RegularExpressions;

namespace DbtRelay.History;

/// <summary>Which events to list: all filters AND together; <see cref="After"/> is a page's <c>next</c>.</summary>
public sealed partial record EventQuery(
    DateTimeOffset? Since = null,
    string? Status = null,
    string? JobId = null,
    string? Target = null,
    int Limit = EventQuery.DefaultLimit,
    string? After = null)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    /// <summary>The oldest <c>since</c> age accepted (far beyond any retention window).</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromDays(3650);

    /// <summary>
    /// Reads the API's query string values; a list of problems (empty when valid) so a typo is a 400 that says what
    /// is accepted, never an empty list that looks like "nothing happened".
    /// </summary>
    public static (EventQuery? Query, string? Problem) Parse(string? since, string? status, string? jobId, string? target, string? limit, string? after, DateTimeOffset now)
    {
        DateTimeOffset? from = null;
        if (!string.IsNullOrEmpty(since))
        {
            if (TryRelative(since, out var ago))
            {
                if (ago > MaxAge) return (null, $"since '{since}' is further back than {MaxAge.TotalDays:F0}d");
                from = now - ago;
            }
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
        if (!string.IsNullOrEmpty(after) && !Cursor().IsMatch(after))
        {
            // Not echoed: it is whatever the caller sent, control characters included.
            return (null, "after is not a cursor this API issued: pass a page's 'next' as it is");
        }
        return (new EventQuery(from, NullIfEmpty(status), NullIfEmpty(jobId), NullIfEmpty(target), size, NullIfEmpty(after)), null);
    }

    /// <summary>An age such as 30m, 24h, 7d; one too large for a TimeSpan reads as <see cref="TimeSpan.MaxValue"/>.</summary>
    private static bool TryRelative(string text, out TimeSpan age)
    {
        age = default;
        if (text.Length < 2 || !long.TryParse(text.AsSpan(0, text.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)) return false;
        double? minutes = text[^1] switch
        {
            'm' => n,
            'h' => n * 60.0,
            'd' => n * 1440.0,
            _ => null,
        };
        if (minutes is not { } m) return false;
        age = m < TimeSpan.MaxValue.TotalMinutes / 2 ? TimeSpan.FromMinutes(m) : TimeSpan.MaxValue;
        return true;
    }

    /// <summary>What a page's next is: 13 digits, a slash and a percent-encoded event id (see the history's index keys).</summary>
    [GeneratedRegex(@"^[0-9]{13}/[A-Za-z0-9._~%-]{1,1024}\z")]
    private static partial Regex Cursor();

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public bool Matches(EventTimeline timeline) =>
        (Status is null || timeline.Status == Status)
        && (JobId is null || timeline.JobId == JobId)
        && (Target is null || timeline.Targets.Any(t => t.Target == Target));
}
