namespace DbtRelay.History;

/// <summary>
/// The downstream run a target's delivery started, as the relay last saw it: <see cref="State"/> is one of
/// <c>Targets.DownstreamStates</c>; <see cref="Checks"/> status checks so far; <see cref="Detail"/> why it ended
/// <c>unknown</c> or <c>timed out</c>.
/// </summary>
public sealed record RunRecord(string Id, string State)
{
    public string? VendorStatus { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long? DurationMs { get; init; }
    public IReadOnlyDictionary<string, long>? Counts { get; init; }
    public string? Error { get; init; }
    public string? Url { get; init; }
    public int Checks { get; init; }
    public DateTimeOffset? CheckedAt { get; init; }
    public string? Detail { get; init; }
}
