namespace DbtRelay.Delivery;

/// <summary>
/// A coalescing window of one target: opened by the event <paramref name="Id"/>, closing at <paramref name="ClosesAt"/>.
/// On a delivery message it marks the one call made for the whole window. Until the window is closed
/// <see cref="Covers"/> is 0 and <see cref="Closing"/> names this closing (only the closing that closed the window makes
/// its call; a copy queued by a retried join is dropped); afterwards <see cref="Covers"/> counts the events the call
/// covers, whose ids stay in the window's record (a message never carries them: it must stay under a queue's size limit).
/// </summary>
public sealed record CoalesceWindow(string Id, DateTimeOffset ClosesAt)
{
    public string? Closing { get; init; }

    public int Covers { get; init; }
}
