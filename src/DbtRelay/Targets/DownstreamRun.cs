namespace DbtRelay.Targets;

/// <summary>What a vendor's status API said about one run the relay started (a RudderStack sync, a dbt Cloud run).</summary>
public sealed record DownstreamRun(string Id, string State)
{
    /// <summary>The vendor's own word for the state (<c>Success</c>, <c>succeeded</c>, …), for people.</summary>
    public string? VendorStatus { get; init; }

    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The vendor's record counts (succeeded, failed, changed, …), when it reports them.</summary>
    public IReadOnlyDictionary<string, long>? Counts { get; init; }

    /// <summary>The vendor's error text for a failed run (capped and redacted before it is stored).</summary>
    public string? Error { get; init; }

    /// <summary>A link to the run in the vendor's UI, when the status API gives one.</summary>
    public string? Url { get; init; }
}
