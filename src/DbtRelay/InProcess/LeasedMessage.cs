namespace DbtRelay.InProcess;

/// <summary>A message received from a queue and held until completed or released; <see cref="Receipt"/> names the lease.</summary>
public sealed record LeasedMessage(string Queue, ReadOnlyMemory<byte> Body, string Receipt);
