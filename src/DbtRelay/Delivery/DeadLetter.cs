using System.Text.Json.Serialization;

namespace DbtRelay.Delivery;

/// <summary>What queue <c>dbt-deliveries-failed</c> carries: the delivery and why it was given up.</summary>
public sealed record DeadLetter
{
    [JsonPropertyName("v")]
    public int Version { get; init; } = 1;

    public required DeliveryMessage Delivery { get; init; }
    public required string Reason { get; init; }
    public required DateTimeOffset FailedAt { get; init; }

    /// <summary>
    /// How long a dead letter is kept for an operator to replay (three times the 30 days an event id is remembered):
    /// serve prunes older ones and warns a week ahead; in Azure the dead-letter queue message expires.
    /// </summary>
    public static readonly TimeSpan KeptFor = TimeSpan.FromDays(90);

    /// <summary>How long before pruning serve starts warning about a dead letter.</summary>
    public static readonly TimeSpan WarnBefore = TimeSpan.FromDays(7);

    /// <summary>Longest reason a queue message carries, so the wrapped event always fits a 64 KiB queue message.</summary>
    public const int MaxReasonLength = 500;

    public static string Capped(string reason) => reason.Length <= MaxReasonLength ? reason : reason[..(MaxReasonLength - 1)] + "…";

    /// <summary>A fresh first attempt of the same delivery (the ledger still prevents a second call if it did land).</summary>
    public DeliveryMessage ToReplay(DateTimeOffset now) =>
        Delivery with { Attempt = 1, FirstQueuedAt = now, LastReason = Capped($"replayed after: {Reason}"), Replay = Delivery.Replay + 1 };
}
