using System.Collections.Concurrent;
using System.Globalization;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Webhooks;
using Microsoft.Data.Sqlite;

namespace DbtRelay.Sqlite;

/// <summary>
/// The relay's queues and dead letters in the embedded database. A message is a row with the time it is due: a
/// retry is due later, a received one is marked leased until completed (deleted) or released. Receivers wait on the
/// next commit that adds to their queue or on the next due time, whichever comes first.
/// </summary>
public sealed class SqliteRelayQueues : IRelayQueues, IDeadLetters, IQueueConsumer, IAcceptedEventStore
{
    private readonly SqliteDatabase _database;
    private readonly TimeProvider _time;
    // One permit per message a commit made due, so one waiting receiver wakes per message instead of all of them.
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _available = new(StringComparer.Ordinal);

    public SqliteRelayQueues(SqliteDatabase database, TimeProvider time)
    {
        _database = database;
        _time = time;
        _database.Committed += added =>
        {
            foreach (var (queue, count) in added) Available(queue).Release(count);
        };
    }

    private SemaphoreSlim Available(string queue) => _available.GetOrAdd(queue, _ => new SemaphoreSlim(0));

    public bool IsDurable => true;

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The one write that must be on disk before its caller answers: dbt never resends an event it got a 202 for.</summary>
    public async ValueTask StoreAsync(Accepted accepted, CancellationToken cancellationToken) =>
        await InsertAsync(QueueNames.Events, accepted.QueueMessage, TimeSpan.Zero, cancellationToken, durable: true).ConfigureAwait(false);

    public async ValueTask EnqueueEventAsync(EventEnvelope envelope, TimeSpan delay, CancellationToken cancellationToken) =>
        await InsertAsync(QueueNames.Events, EventJson.Serialize(envelope), delay, cancellationToken).ConfigureAwait(false);

    public async ValueTask EnqueueDeliveryAsync(DeliveryMessage delivery, TimeSpan delay, CancellationToken cancellationToken) =>
        await InsertAsync(QueueNames.Deliveries, DeliveryJson.Serialize(delivery), delay, cancellationToken).ConfigureAwait(false);

    public async ValueTask DeadLetterAsync(DeadLetter deadLetter, CancellationToken cancellationToken) =>
        await _database.RunAsync(c => SqliteDatabase.Execute(c,
            "INSERT INTO dead_letters (event_id, target, body, failed_at) VALUES ($event, $target, $body, $failed)",
            ("$event", deadLetter.Delivery.Event.EventId), ("$target", deadLetter.Delivery.Target), ("$body", DeliveryJson.Serialize(deadLetter)),
            ("$failed", deadLetter.FailedAt.ToUnixTimeMilliseconds())),
            cancellationToken).ConfigureAwait(false);

    private Task<int> InsertAsync(string queue, byte[] body, TimeSpan delay, CancellationToken cancellationToken, bool durable = false)
    {
        var due = Now + (long)Math.Max(0, delay.TotalMilliseconds);
        return _database.RunAsync(c => Insert(c, queue, body, due), durable, cancellationToken, queue);
    }

    private static int Insert(SqliteConnection connection, string queue, byte[] body, long due) => SqliteDatabase.Execute(connection,
        "INSERT INTO messages (queue, body, due_at) VALUES ($queue, $body, $due)", ("$queue", queue), ("$body", body), ("$due", due));

    public async ValueTask<LeasedMessage?> ReceiveAsync(string queue, CancellationToken cancellationToken)
    {
        var available = Available(queue);
        while (true)
        {
            var now = Now;
            var (message, nextDue) = await _database.RunAsync(c => Lease(c, queue, now), cancellationToken).ConfigureAwait(false);
            if (message is not null) return message;
            // Permits released since the look are still counted, so a message committed meanwhile is not missed.
            var wait = nextDue is { } due ? TimeSpan.FromMilliseconds(Math.Max(1, due - now)) : Timeout.InfiniteTimeSpan;
            using var timeout = new CancellationTokenSource(wait, _time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                await available.WaitAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // The next delayed message is due now.
            }
        }
    }

    private static (LeasedMessage? Message, long? NextDue) Lease(SqliteConnection connection, string queue, long now)
    {
        var take = SqliteDatabase.Command(connection, """
            UPDATE messages SET leased = 1
            WHERE id = (SELECT id FROM messages WHERE queue = $queue AND leased = 0 AND due_at <= $now ORDER BY due_at, id LIMIT 1)
            RETURNING id, body, failures
            """, ("$queue", queue), ("$now", now));
        using (var reader = take.ExecuteReader())
        {
            if (reader.Read())
            {
                return (new LeasedMessage(queue, (byte[])reader.GetValue(1), reader.GetInt64(0).ToString(CultureInfo.InvariantCulture))
                {
                    Failures = (int)reader.GetInt64(2),
                }, null);
            }
        }
        var next = SqliteDatabase.Command(connection, "SELECT MIN(due_at) FROM messages WHERE queue = $queue AND leased = 0", ("$queue", queue));
        return (null, next.ExecuteScalar() is long due ? due : null);
    }

    public async ValueTask CompleteAsync(LeasedMessage message, CancellationToken cancellationToken) =>
        await _database.RunAsync(c => SqliteDatabase.Execute(c, "DELETE FROM messages WHERE id = $id", ("$id", long.Parse(message.Receipt, CultureInfo.InvariantCulture))),
            cancellationToken).ConfigureAwait(false);

    public async ValueTask ReleaseAsync(LeasedMessage message, TimeSpan delay, CancellationToken cancellationToken)
    {
        var due = Now + (long)delay.TotalMilliseconds;
        await _database.RunAsync(c => SqliteDatabase.Execute(c, "UPDATE messages SET leased = 0, due_at = $due, failures = failures + 1 WHERE id = $id",
            ("$due", due), ("$id", long.Parse(message.Receipt, CultureInfo.InvariantCulture))), cancellationToken, message.Queue).ConfigureAwait(false);
    }

    /// <summary>Moved to <c>&lt;queue&gt;-poison</c> in the same table: kept for a person to look at, never received.</summary>
    public async ValueTask PoisonAsync(LeasedMessage message, CancellationToken cancellationToken) =>
        await _database.RunAsync(c => SqliteDatabase.Execute(c, "UPDATE messages SET queue = $poison, leased = 0, failures = failures + 1 WHERE id = $id",
            ("$poison", PoisonQueue(message.Queue)), ("$id", long.Parse(message.Receipt, CultureInfo.InvariantCulture))), cancellationToken).ConfigureAwait(false);

    public static string PoisonQueue(string queue) => queue + "-poison";

    public async ValueTask<bool> HasDueOrLeasedAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        return await _database.RunAsync(c =>
        {
            var command = SqliteDatabase.Command(c, "SELECT EXISTS (SELECT 1 FROM messages WHERE (leased = 1 OR due_at <= $now) AND queue NOT LIKE '%-poison')", ("$now", now));
            return (long)command.ExecuteScalar()! == 1;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<int> CountDelayedAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        return await _database.RunAsync(c =>
        {
            var command = SqliteDatabase.Command(c, "SELECT COUNT(*) FROM messages WHERE leased = 0 AND due_at > $now AND queue NOT LIKE '%-poison'", ("$now", now));
            return (int)(long)command.ExecuteScalar()!;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<DeadLetterSummary>> ListAsync(int max, CancellationToken cancellationToken) =>
        await _database.RunAsync<IReadOnlyList<DeadLetterSummary>>(c =>
        {
            var command = SqliteDatabase.Command(c, "SELECT body FROM dead_letters ORDER BY id LIMIT $max", ("$max", max));
            using var reader = command.ExecuteReader();
            var list = new List<DeadLetterSummary>();
            while (reader.Read()) list.Add(DeadLetterSummary.Of(DeliveryJson.DeserializeDeadLetter((byte[])reader.GetValue(0))));
            return list;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> ReplayAsync(int max, EventAndTarget? only, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        // One transaction: a replayed letter is on the delivery queue and off the dead-letter table, or neither.
        return await _database.RunAsync(c =>
        {
            var chosen = new List<(long Id, DeadLetter Letter)>();
            var select = SqliteDatabase.Command(c, """
                SELECT id, body FROM dead_letters
                WHERE $event IS NULL OR (event_id = $event AND target = $target)
                ORDER BY id LIMIT $max
                """, ("$event", only?.EventId), ("$target", only?.Target), ("$max", max));
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read()) chosen.Add((reader.GetInt64(0), DeliveryJson.DeserializeDeadLetter((byte[])reader.GetValue(1))));
            }
            foreach (var (id, letter) in chosen)
            {
                Insert(c, QueueNames.Deliveries, DeliveryJson.Serialize(letter.ToReplay(now)), now.ToUnixTimeMilliseconds());
                SqliteDatabase.Execute(c, "DELETE FROM dead_letters WHERE id = $id", ("$id", id));
            }
            return chosen.Count;
        }, cancellationToken, QueueNames.Deliveries).ConfigureAwait(false);
    }
}
