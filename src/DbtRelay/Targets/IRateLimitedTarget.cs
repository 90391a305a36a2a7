namespace DbtRelay.Targets;

/// <summary>
/// A target whose API rate-limits a whole account, not one call: once it answers 429, no call to the same
/// <see cref="RateLimitScope"/> is made until its cooldown has passed, whichever target or event it is for.
/// </summary>
public interface IRateLimitedTarget : IDeliveryTarget
{
    /// <summary>What the vendor limits together, e.g. one dbt Cloud account on one access URL.</summary>
    string RateLimitScope { get; }
}
