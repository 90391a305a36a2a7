namespace DbtRelay.Targets;

/// <summary>What one call to a target came to. Exceptions are for bugs, not for a 500 from a downstream API.</summary>
public abstract record TargetOutcome(string Detail);
