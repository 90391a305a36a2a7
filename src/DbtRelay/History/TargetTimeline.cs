namespace DbtRelay.History;

/// <summary>One target of one event: its current state and every attempt, oldest first.</summary>
public sealed record TargetTimeline(string Target, string? Type, string State, IReadOnlyList<AttemptRecord> Attempts)
{
    /// <summary>How many deliberate redeliveries were asked for (the next one is this + 1).</summary>
    public int Redeliveries { get; init; }

    /// <summary>The downstream run the last delivery started, when the target's run is followed.</summary>
    public RunRecord? Run { get; init; }
}
