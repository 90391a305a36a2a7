namespace DbtRelay.History;

/// <summary>One target of one event: its current state and every attempt, oldest first.</summary>
public sealed record TargetTimeline(string Target, string? Type, string State, IReadOnlyList<AttemptRecord> Attempts)
{
    /// <summary>How many deliberate redeliveries were asked for (the next one is this + 1).</summary>
    public int Redeliveries { get; init; }

    /// <summary>The downstream run the last delivery started, when the target's run is followed.</summary>
    public RunRecord? Run { get; init; }

    /// <summary>
    /// The <c>onFailure</c> calls made about this target's runs (each names the target it called), kept here rather
    /// than in the called target's own timeline, whose state and redeliveries are its own.
    /// </summary>
    public IReadOnlyList<AttemptRecord> Notices { get; init; } = [];
}
