namespace DbtRelay.Targets;

/// <summary>A configured downstream: one entry of relay.json <c>targets</c>.</summary>
public interface IDeliveryTarget
{
    string Name { get; }

    /// <summary>The relay.json <c>type</c>.</summary>
    string Type { get; }

    TimeSpan Timeout { get; }

    /// <summary>Every secret name this target resolves, so startup can report the missing ones.</summary>
    IReadOnlyList<string> SecretNames { get; }

    /// <summary>Makes the call. Must not throw for downstream failures: those are outcomes.</summary>
    Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken);
}
