using System.Text.Json;
using Azure.Storage.Queues.Models;
using DbtRelay.Delivery;

namespace DbtRelay.AzureStorage;

/// <summary>
/// The dead-letter queue <c>dbt-deliveries-failed</c> for the ops API. Listing peeks, so it changes nothing (a queue
/// shows at most 32 messages that way). Replaying receives in batches, moves the chosen letters to the delivery
/// queue, and makes every other letter visible again straight after the scan.
/// </summary>
public sealed class StorageDeadLetters(StorageClients storage, IRelayQueues queues, TimeProvider time) : IDeadLetters
{
    /// <summary>The most messages one peek returns (a limit of Azure Storage queues).</summary>
    public const int PeekLimit = 32;

    /// <summary>Long enough to finish one replay scan; letters left alone are released right after it anyway.</summary>
    private static readonly TimeSpan ScanLease = TimeSpan.FromMinutes(2);

    /// <summary>Bounds one request's work on a huge queue; the caller can repeat it.</summary>
    private const int ScanLimit = 5000;

    public async ValueTask<IReadOnlyList<DeadLetterSummary>> ListAsync(int max, CancellationToken cancellationToken)
    {
        var peeked = (await storage.Queue(QueueNames.DeadLetters)
            .PeekMessagesAsync(Math.Clamp(max, 1, PeekLimit), cancellationToken).ConfigureAwait(false)).Value;
        return peeked.Select(m => TryRead(m.Body)).OfType<DeadLetter>().Select(DeadLetterSummary.Of).ToList();
    }

    public async ValueTask<int> ReplayAsync(int max, EventAndTarget? only, CancellationToken cancellationToken)
    {
        var queue = storage.Queue(QueueNames.DeadLetters);
        var leftAlone = new List<QueueMessage>();
        var replayed = 0;
        try
        {
            for (var scanned = 0; replayed < max && scanned < ScanLimit;)
            {
                var batch = (await queue.ReceiveMessagesAsync(PeekLimit, ScanLease, cancellationToken).ConfigureAwait(false)).Value;
                if (batch.Length == 0) break;
                scanned += batch.Length;
                foreach (var message in batch)
                {
                    if (replayed >= max || TryRead(message.Body) is not { } deadLetter || (only is not null && !only.Matches(deadLetter.Delivery)))
                    {
                        leftAlone.Add(message);
                        continue;
                    }
                    // Enqueue first: a crash in between leaves a copy in both queues, never in neither (the ledger
                    // makes the extra replay a no-op).
                    await queues.EnqueueDeliveryAsync(deadLetter.ToReplay(time.GetUtcNow()), TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken).ConfigureAwait(false);
                    replayed++;
                }
            }
        }
        finally
        {
            foreach (var message in leftAlone)
            {
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: TimeSpan.Zero,
                    cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
        }
        return replayed;
    }

    private static DeadLetter? TryRead(BinaryData body)
    {
        try
        {
            return DeliveryJson.DeserializeDeadLetter(body.ToMemory());
        }
        catch (JsonException)
        {
            return null; // not ours to interpret; it stays in the queue for a person to look at
        }
    }
}
