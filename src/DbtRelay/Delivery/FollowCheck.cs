namespace DbtRelay.Delivery;

/// <summary>
/// A delivery message that is a status check of the run its delivery started, not a call: the <paramref name="Check"/>-th
/// look at <paramref name="RunId"/>, followed since <paramref name="Since"/>. Each check is its own queued message.
/// </summary>
public sealed record FollowCheck(string RunId, int Check, DateTimeOffset Since)
{
    /// <summary>Status API failures in a row before this check (they back off, and too many end as unknown).</summary>
    public int StatusFailures { get; init; }

    /// <summary>What the last failed check heard, shown if the run ends unknown.</summary>
    public string? LastFailure { get; init; }
}
