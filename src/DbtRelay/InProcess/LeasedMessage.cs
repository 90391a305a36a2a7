namespace DbtRelay.InProcess;

/// <summary>
/// A message received from a queue and held until completed or released; <see cref="Receipt"/> names the lease,
/// <see cref="Failures"/> counts the earlier handlings of it that failed (released after an unexpected error).
/// </summary>
public sealed record LeasedMessage(string Queue, ReadOnlyMemory<byte> Body, string Receipt)
{
    public int Failures { get; init; }
}
