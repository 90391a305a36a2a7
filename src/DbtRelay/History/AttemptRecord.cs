namespace DbtRelay.History;

/// <summary>
/// One call to one target, or the decision not to make one (a dead letter before any call records no status).
/// <paramref name="Redelivery"/> is 0 for the pipeline's own attempts and n for the n-th deliberate redelivery;
/// <see cref="LedgerRedelivery"/> the ledger entry it claimed when not its own (see DeliveryMessage).
/// </summary>
public sealed record AttemptRecord(
    int Attempt,
    int Redelivery,
    DateTimeOffset At,
    string Outcome,
    int? HttpStatus,
    long DurationMs,
    string? DownstreamId,
    string Detail)
{
    public int? LedgerRedelivery { get; init; }

    /// <summary>n when the attempt belongs to the n-th replay of a dead letter.</summary>
    public int? Replay { get; init; }

    /// <summary>For an <c>onFailure</c> call: the target called, and the run it was about.</summary>
    public string? Notified { get; init; }
    public string? AboutRun { get; init; }

    /// <summary>For the one call of a coalescing window: the window (named after the event that opened it).</summary>
    public string? CoalescedIn { get; init; }

    /// <summary>For the one call of a coalescing window: every event it covered, oldest first (this one included).</summary>
    public IReadOnlyList<string>? Covers { get; init; }

    /// <summary>For an event a coalesced call covered: the event whose values the call was made with.</summary>
    public string? CoveredBy { get; init; }
}
