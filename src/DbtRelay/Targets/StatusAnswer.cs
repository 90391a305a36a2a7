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
        if (outcome is not Delivered) return outcome;
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

    /// <summary>A vendor's error text, one line, capped (it is shown, logged and stored).</summary>
    public static string? ErrorText(JsonElement element)
    {
        var text = element.ValueKind == JsonValueKind.Object ? Text(Get(element, "message")) ?? element.GetRawText() : Text(element);
        if (string.IsNullOrWhiteSpace(text)) return null;
        var line = new string([.. text.Select(c => char.IsControl(c) ? ' ' : c)]).Trim();
        return line.Length <= MaxErrorLength ? line : line[..MaxErrorLength] + "…";
    }
}
