using System.ComponentModel.DataAnnotations;

namespace DbtRelay.InProcess;

/// <summary>How much of the pipeline serve runs at once (<c>Pipeline__DeliveryConcurrency</c>, …).</summary>
public sealed class PipelineOptions
{
    public const string Section = "Pipeline";
    public const int DefaultDeliveryConcurrency = 16;

    /// <summary>
    /// Deliveries in flight at once. Each mostly waits on a downstream API, so with slow downstreams more is faster:
    /// throughput is about this many divided by the downstream's answer time.
    /// </summary>
    [Range(1, 512)]
    public int DeliveryConcurrency { get; set; } = DefaultDeliveryConcurrency;

    /// <summary>
    /// Deliveries in flight at once to any one target (0, the default: no limit beyond <see cref="DeliveryConcurrency"/>).
    /// With a slow downstream beside fast ones, set it below <see cref="DeliveryConcurrency"/> so the slow one never
    /// holds every worker. A delivery over its target's limit goes back to the queue for a moment, not as an attempt.
    /// </summary>
    [Range(0, 512)]
    public int MaxPerTarget { get; set; }

    public int EffectiveMaxPerTarget => MaxPerTarget > 0 ? Math.Min(MaxPerTarget, DeliveryConcurrency) : DeliveryConcurrency;

    /// <summary>Events routed at once: routing waits only on the store, and the ledger dedupes concurrent copies.</summary>
    [Range(1, 64)]
    public int RouteConcurrency { get; set; } = 4;
}
