using System.Globalization;
using System.Text.Json;

namespace DbtRelay.Targets;

/// <summary>Reads a status API's answer into a <see cref="RunReport"/>; a refusal or an unreadable body is an outcome too.</summary>
public static class StatusAnswer
{
    /// <summary>The most of a vendor's error text the relay keeps.</summary>
    public const int MaxErrorLength = 500;

    public static async Task<TargetOutcome> ReadAsync(HttpResponseMessage response, string what, DateTimeOffset now, Func<JsonElement, DownstreamRun?> read, CancellationToken cancellationToken)
    {
        var outcome = HttpOutcomes.Classify(response, what, now);
        if (outcome is not CallAccepted) return outcome;
        using var json = await HttpOutcomes.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        if (json is null) return new RetryLater($"{what} answered {(int)response.StatusCode} with a body that is not JSON of at most 1 MiB") { HttpStatus = outcome.HttpStatus };
        return read(json.RootElement) is { } run
            ? new RunReport($"{what}: {run.VendorStatus ?? run.State}", run) { HttpStatus = outcome.HttpStatus, DownstreamId = run.Id }
            : new RetryLater($"{what} answered {(int)response.StatusCode} without a run status the relay can read") { HttpStatus = outcome.HttpStatus };
    }

    public static JsonElement Get(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? value : default;

    public static string? Text(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        _ => null,
    };

    public static DateTimeOffset? Time(JsonElement element) =>
        element.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(element.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : null;

    public static long? Count(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetInt64(out var n) => n,
        // RudderStack nests a count as {"total": n}.
        JsonValueKind.Object => Count(Get(element, "total")),
        _ => null,
    };

    /// <summary>A vendor's error text as it said it (a message string, or the JSON it sent); cleaned by <see cref="Sanitized"/>.</summary>
    public static string? ErrorText(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object ? Text(Get(element, "message")) ?? element.GetRawText() : Text(element);

    /// <summary>Longest vendor status word kept (<c>Success</c>, <c>warning</c>, …).</summary>
    public const int MaxStatusLength = 100;

    /// <summary>Longest vendor link kept (a dbt Cloud run page).</summary>
    public const int MaxUrlLength = 2048;

    /// <summary>
    /// What a status API said, made fit to store, log, show and send on: every value the target's secrets hold is
    /// masked first, then each text becomes one line without control characters and is capped; a link must be https
    /// and short, or is dropped.
    /// </summary>
    public static RunReport Sanitized(RunReport report, IEnumerable<string> secrets)
    {
        var values = secrets.Where(v => v.Length >= 4).ToArray();
        string? Clean(string? text, int max) => text is null ? null : OneLine(Masked(text, values), max);
        var run = report.Run;
        var url = run.Url is { Length: <= MaxUrlLength } link && Uri.TryCreate(link, UriKind.Absolute, out var uri) && uri.Scheme == "https" && Masked(link, values) == link
            ? uri.AbsoluteUri
            : null;
        return report with
        {
            Detail = Clean(report.Detail, MaxErrorLength)!,
            Run = run with { VendorStatus = Clean(run.VendorStatus, MaxStatusLength), Error = Clean(run.Error, MaxErrorLength), Url = url },
        };
    }

    /// <summary>Every occurrence of each value replaced by <c>***</c>.</summary>
    public static string Masked(string text, IReadOnlyCollection<string> values) =>
        values.Aggregate(text, (masked, secret) => masked.Replace(secret, "***", StringComparison.Ordinal));

    /// <summary>One line: control characters become spaces, then capped at <paramref name="max"/> (an ellipsis marks a cut); null when blank.</summary>
    public static string? OneLine(string text, int max)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var line = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        if (line.Length == 0) return null;
        return line.Length <= max ? line : line[..max] + "…";
    }
}
