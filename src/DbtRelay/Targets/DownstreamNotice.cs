namespace DbtRelay.Targets;

/// <summary>
/// Why an <c>onFailure</c> target is called: which target's downstream run ended how. Its fields are the
/// <c>{{downstream.*}}</c> placeholders.
/// </summary>
public sealed record DownstreamNotice(string Target, string RunId, string State)
{
    public string? Error { get; init; }
    public string? Url { get; init; }
}
