namespace DbtRelay.Targets;

/// <summary>A target whose vendor has a status API: the run a delivery started is followed to its end.</summary>
public interface IFollowedTarget : IDeliveryTarget
{
    /// <summary>Null when relay.json turned following off for this target.</summary>
    FollowSettings? Follow { get; }

    /// <summary>
    /// One status check: a <see cref="RunReport"/>, or why the status API did not answer (<see cref="RetryLater"/>,
    /// <see cref="Failed"/>). Must not throw for a downstream failure.
    /// </summary>
    Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken);
}
