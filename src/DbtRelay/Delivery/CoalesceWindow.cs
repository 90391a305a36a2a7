namespace DbtRelay.Delivery;

/// <summary>
/// A coalescing window of one target: opened by the event <paramref name="Id"/>, closing at <paramref name="ClosesAt"/>.
/// On a delivery message it marks the one call made for the whole window; <see cref="Events"/> is null until the window
/// is closed, then the events the call covers, oldest first.
/// </summary>
public sealed record CoalesceWindow(string Id, DateTimeOffset ClosesAt)
{
    public IReadOnlyList<string>? Events { get; init; }
}
