namespace DbtRelay.InProcess;

/// <summary>
/// The receiving side of the relay's queues for a host that runs route → deliver itself (<c>dbt-relay serve</c>):
/// in memory, in the embedded database, or on Azure Storage. A received message is leased, then completed once
/// handled or released to come back later; a lease whose process died runs out and the message is received again.
/// </summary>
public interface IQueueConsumer
{
    /// <summary>True when queued and delayed messages survive a restart (and a crash) of the process.</summary>
    bool IsDurable { get; }

    /// <summary>Waits until a message of <paramref name="queue"/> is due and leases it; null when no more will come.</summary>
    ValueTask<LeasedMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Removes a handled message for good.</summary>
    ValueTask CompleteAsync(LeasedMessage message, CancellationToken cancellationToken);

    /// <summary>Gives a message back, due again after <paramref name="delay"/> (its handling failed unexpectedly), one more failure counted.</summary>
    ValueTask ReleaseAsync(LeasedMessage message, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>
    /// Sets aside a message whose handling kept failing: kept in <c>&lt;queue&gt;-poison</c> (as the Functions host
    /// does), never received again, so it neither loops forever nor holds up the drain.
    /// </summary>
    ValueTask PoisonAsync(LeasedMessage message, CancellationToken cancellationToken);

    /// <summary>Whether any message is due now or leased (in flight): the drain on shutdown waits for none.</summary>
    ValueTask<bool> HasDueOrLeasedAsync(CancellationToken cancellationToken);

    /// <summary>Messages waiting for a retry delay.</summary>
    ValueTask<int> CountDelayedAsync(CancellationToken cancellationToken);
}
