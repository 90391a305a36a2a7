namespace DbtRelay.Delivery;

/// <summary>What one call to a target came to. Exceptions are for bugs, not for a 500 from a downstream API.</summary>
public abstract record TargetOutcome(string Detail);

/// <summary>The target took the request (detail: the downstream id, e.g. RudderStack's syncId or the new dbt run id).</summary>
public sealed record Delivered(string Detail) : TargetOutcome(Detail);

/// <summary>Transient: try again later, not before <paramref name="After"/> when the target said so (Retry-After).</summary>
public sealed record RetryLater(string Detail, TimeSpan? After = null) : TargetOutcome(Detail);

/// <summary>Permanent: retrying cannot help (bad token, unknown connection). Dead-lettered with the reason.</summary>
public sealed record Failed(string Detail, bool CredentialsRejected = false) : TargetOutcome(Detail);
