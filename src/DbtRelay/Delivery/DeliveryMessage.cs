using System.Text.Json.Serialization;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.Targets;

namespace DbtRelay.Delivery;

/// <summary>One event to deliver to one target: what queue <c>dbt-deliveries</c> carries.</summary>
public sealed record DeliveryMessage
{
    public const int CurrentVersion = 1;

    [JsonPropertyName("v")]
    public int Version { get; init; } = CurrentVersion;

    public required string Target { get; init; }

    /// <summary>1 for the first try; each retry carries the next number.</summary>
    public required int Attempt { get; init; }

    public required DateTimeOffset FirstQueuedAt { get; init; }

    /// <summary>Why the previous attempt did not deliver (null on the first attempt).</summary>
    public string? LastReason { get; init; }

    /// <summary>The event itself, so a delivery needs no other storage to run.</summary>
    public required EventEnvelope Event { get; init; }

    /// <summary>W3C traceparent of the routing (or redelivery) that queued this delivery.</summary>
    public string? TraceParent { get; init; }

    /// <summary>0 for the pipeline's own delivery; n for the n-th deliberate redelivery, which has its own ledger entry.</summary>
    public int Redelivery { get; init; }

    /// <summary>0, or n when this is the n-th replay of its dead letter (shown in the history as such).</summary>
    public int Replay { get; init; }

    /// <summary>
    /// The ledger entry this delivery claims when it is not its own: a redelivery of a dead-lettered target takes
    /// over the dead-lettered attempt's entry, so replaying that dead letter later (or meanwhile) finds the call made.
    /// </summary>
    public int? LedgerRedelivery { get; init; }

    /// <summary>Set when this message checks the status of the run a delivery to <see cref="Target"/> started.</summary>
    public FollowCheck? Follow { get; init; }

    /// <summary>Set when this is an <c>onFailure</c> call: the downstream run that ended badly.</summary>
    public DownstreamNotice? Notice { get; init; }

    /// <summary>Set when this is the one call made for a coalescing window of <see cref="Target"/>.</summary>
    public CoalesceWindow? Window { get; init; }

    [JsonIgnore]
    public string LedgerKey => this switch
    {
        { Follow: null, Notice: null, Window: { } window } => LedgerKeys.Coalesced(window.Id, Target, LedgerRedelivery ?? Redelivery),
        { Follow: { } follow } => LedgerKeys.FollowCheck(Event.EventId, Target, follow.RunId, follow.Check),
        { Notice: { } notice } => LedgerKeys.Notice(Event.EventId, notice.Target, notice.RunId, Target),
        _ => (LedgerRedelivery ?? Redelivery) is var key and > 0 ? LedgerKeys.Redelivery(Event.EventId, Target, key) : LedgerKeys.Delivery(Event.EventId, Target),
    };
}
