using System.Text.Json.Serialization;
using DbtRelay.Webhooks;

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

    [JsonIgnore]
    public string LedgerKey => LedgerKeys.Delivery(Event.EventId, Target);
}

/// <summary>
/// Ledger keys, one namespace per kind so that no target name can collide with the router's bookkeeping. The event
/// id comes from the (signed) body, so it is escaped into a single path segment.
/// </summary>
public static class LedgerKeys
{
    public static string Routed(string eventId) => $"routed/{Uri.EscapeDataString(eventId)}";

    public static string Delivery(string eventId, string target) => $"delivered/{Uri.EscapeDataString(eventId)}/{target}";
}

/// <summary>What queue <c>dbt-deliveries-failed</c> carries: the delivery and why it was given up.</summary>
public sealed record DeadLetter
{
    [JsonPropertyName("v")]
    public int Version { get; init; } = 1;

    public required DeliveryMessage Delivery { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset FailedAt { get; init; }

    /// <summary>Longest reason a queue message carries, so the wrapped event always fits a 64 KiB queue message.</summary>
    public const int MaxReasonLength = 500;

    public static string Capped(string reason) => reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…";

    /// <summary>A fresh first attempt of the same delivery (the ledger still prevents a second call if it did land).</summary>
    public DeliveryMessage ToReplay(DateTimeOffset now) =>
        Delivery with { Attempt = 1, FirstQueuedAt = now, LastReason = Capped($"replayed after: {Reason}") };
}
