namespace DbtRelay.Targets;

/// <summary>What one call to a target came to. Exceptions are for bugs, not for a 500 from a downstream API.</summary>
public abstract record TargetOutcome(string Detail)
{
    /// <summary>The downstream's HTTP status, when there was an answer.</summary>
    public int? HttpStatus { get; init; }

    /// <summary>What the downstream calls the work it started (RudderStack <c>syncId</c>, dbt Cloud run id).</summary>
    public string? DownstreamId { get; init; }
}
