using System.Threading.Channels;
using DbtRelay.Delivery.Ledger;
using Microsoft.Data.Sqlite;

namespace DbtRelay.Sqlite;

/// <summary>
/// The relay's embedded database: one file, owned by one process (a lock file says so), in WAL mode. Every read and
/// write runs on a single connection through one loop that commits whatever is waiting in one transaction (group
/// commit): many concurrent intake requests share one fsync, and each caller's task completes only after the commit
/// that holds its write, so a 202 is never answered for an event that is not on disk.
/// Only batches holding a write that must be on disk before an answer (<c>durable</c>: intake) are fsync'd under
/// <see cref="SqliteDurability.Full"/>; the pipeline's own bookkeeping commits without waiting for the disk. WAL
/// keeps commits in order, so an fsync also secures every commit before it, and a power loss can only undo the
/// latest bookkeeping (a delivery may then be retried), never an acknowledged event.
/// </summary>
public sealed class SqliteDatabase : IAsyncDisposable
{
    /// <summary>Writes committed together at most (bounds one transaction's latency).</summary>
    private const int MaxBatch = 512;

    private readonly SqliteConnection _connection;
    private readonly FileStream _lock;
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _loop;

    private SqliteDatabase(string path, SqliteConnection connection, FileStream fileLock, SqliteDurability durability)
    {
        Path = path;
        Durability = durability;
        _connection = connection;
        _lock = fileLock;
        _loop = Task.Run(RunAsync);
    }

    public string Path { get; }

    public SqliteDurability Durability { get; }

    /// <summary>Raised after each commit with how many due messages it added to each queue.</summary>
    internal event Action<IReadOnlyDictionary<string, int>>? Committed;

    /// <summary>
    /// Opens (creating if needed) the database at <paramref name="path"/>. Throws <see cref="SqliteException"/> for a
    /// file that is not a database or cannot be written, and <see cref="IOException"/> when another process holds it.
    /// </summary>
    public static SqliteDatabase Open(string path, SqliteDurability durability = SqliteDurability.Full)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        // An exclusive lock (flock on Unix) that the OS drops when the process dies, even by SIGKILL.
        var fileLock = new FileStream(full + ".lock", FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        SqliteConnection? connection = null;
        try
        {
            connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = full, Pooling = false }.ToString());
            connection.Open();
            MoveLedgerToRowidTable(connection);
            AddMessageFailures(connection);
            AddDeadLetterTimes(connection);
            Execute(connection, $$"""
                PRAGMA auto_vacuum = INCREMENTAL; -- takes effect on a new file: retention can then hand free pages back
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = {{(durability == SqliteDurability.Full ? "FULL" : "NORMAL")}};
                PRAGMA foreign_keys = OFF;
                CREATE TABLE IF NOT EXISTS messages (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  queue TEXT NOT NULL,
                  body BLOB NOT NULL,
                  due_at INTEGER NOT NULL,
                  leased INTEGER NOT NULL DEFAULT 0,
                  failures INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, leased, due_at);
                {{LedgerTable}}
                CREATE TABLE IF NOT EXISTS dead_letters (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  event_id TEXT NOT NULL,
                  target TEXT NOT NULL,
                  body BLOB NOT NULL,
                  failed_at INTEGER NOT NULL DEFAULT 0);
                -- This process owns the file now: leases of a process that died are void, on messages and in the
                -- ledger alike. A ledger lease is ended rather than removed, so whoever claims the key next knows it
                -- is taking over a call that may have been made (dbt Cloud's run lookup depends on that).
                UPDATE messages SET leased = 0 WHERE leased = 1;
                UPDATE ledger SET content = CAST('{{ExpiredLease}}' AS BLOB), version = version + 1, updated_at = {{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}
                  WHERE key NOT LIKE 'history/%' AND json_extract(CAST(content AS TEXT), '$.state') = '{{LedgerEntry.LeasedState}}';
                """);
            return new SqliteDatabase(full, connection, fileLock, durability);
        }
        catch
        {
            connection?.Dispose();
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The ledger (and the delivery history beside it) as an ordinary rowid table: its values run to kilobytes (a
    /// history entry holds the event), and in a WITHOUT ROWID table anything over ~1 KB spills to an overflow page of
    /// its own, which made the file about twice as large.
    /// </summary>
    private const string LedgerTable = """
        CREATE TABLE IF NOT EXISTS ledger (
          key TEXT PRIMARY KEY,
          content BLOB NOT NULL,
          version INTEGER NOT NULL,
          updated_at INTEGER NOT NULL);
        CREATE INDEX IF NOT EXISTS ledger_updated ON ledger (updated_at);
        """;

    private static readonly string ExpiredLease = System.Text.Encoding.UTF8.GetString(LedgerEntry.Leased(DateTimeOffset.UnixEpoch).ToJson());

    /// <summary>A database written by an earlier version keeps its ledger, moved once into the rowid table.</summary>
    private static void MoveLedgerToRowidTable(SqliteConnection connection)
    {
        if (TableSql(connection, "ledger") is not { } sql || !sql.Contains("WITHOUT ROWID", StringComparison.OrdinalIgnoreCase)) return;
        Execute(connection, $"""
            BEGIN IMMEDIATE;
            ALTER TABLE ledger RENAME TO ledger_without_rowid;
            DROP INDEX IF EXISTS ledger_updated;
            {LedgerTable}
            INSERT INTO ledger (key, content, version, updated_at) SELECT key, content, version, updated_at FROM ledger_without_rowid;
            DROP TABLE ledger_without_rowid;
            COMMIT;
            """);
    }

    /// <summary>A database written by an earlier version gains the count of failed handlings per message.</summary>
    private static void AddMessageFailures(SqliteConnection connection)
    {
        if (TableSql(connection, "messages") is not { } sql || sql.Contains("failures", StringComparison.Ordinal)) return;
        Execute(connection, "ALTER TABLE messages ADD COLUMN failures INTEGER NOT NULL DEFAULT 0");
    }

    /// <summary>
    /// A database written by an earlier version gains when each dead letter failed; the ones it has count from now,
    /// so an upgrade never prunes a dead letter without its warning week.
    /// </summary>
    private static void AddDeadLetterTimes(SqliteConnection connection)
    {
        if (TableSql(connection, "dead_letters") is not { } sql || sql.Contains("failed_at", StringComparison.Ordinal)) return;
        // One transaction: a crash between the two would leave dead letters at 0 (1970), pruned with no warning.
        Execute(connection, "BEGIN IMMEDIATE; ALTER TABLE dead_letters ADD COLUMN failed_at INTEGER NOT NULL DEFAULT 0; " +
            $"UPDATE dead_letters SET failed_at = {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}; COMMIT;");
    }

    /// <summary>A table's CREATE statement as the file holds it (what an earlier version wrote), or null when absent.</summary>
    private static string? TableSql(SqliteConnection connection, string table) =>
        Command(connection, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $table", ("$table", table)).ExecuteScalar() as string;

    /// <summary>Runs <paramref name="work"/> in the next group commit; completes after that commit.</summary>
    internal Task<T> RunAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken, params string[] wakes) =>
        RunAsync(work, durable: false, cancellationToken, wakes);

    /// <summary>As above; <paramref name="durable"/> writes are on disk (fsync'd) when the task completes.</summary>
    internal Task<T> RunAsync<T>(Func<SqliteConnection, T> work, bool durable, CancellationToken cancellationToken, params string[] wakes)
    {
        var operation = new Operation<T>(work, wakes, durable);
        if (!_operations.Writer.TryWrite(operation)) throw new ObjectDisposedException(nameof(SqliteDatabase), "The relay database is closed.");
        return operation.Task.WaitAsync(cancellationToken);
    }

    internal static int Execute(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters) =>
        Command(connection, sql, parameters).ExecuteNonQuery();

    /// <summary>
    /// The command for <paramref name="sql"/> on this connection, prepared once and reused (only the writer loop
    /// touches the connection, one operation at a time). Callers must not dispose it.
    /// </summary>
    internal static SqliteCommand Command(SqliteConnection connection, string sql, params (string Name, object? Value)[] parameters)
    {
        var cache = Prepared.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (!cache.TryGetValue(sql, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            cache[sql] = command;
        }
        command.Parameters.Clear();
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return command;
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Prepared = new();

    private async Task RunAsync()
    {
        var batch = new List<Operation>(MaxBatch);
        var synchronousFull = Durability == SqliteDurability.Full;
        while (await _operations.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && _operations.Reader.TryRead(out var operation)) batch.Add(operation);
            try
            {
                var fsync = Durability == SqliteDurability.Full && batch.Exists(o => o.Durable);
                if (fsync != synchronousFull)
                {
                    Execute(_connection, fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
                    synchronousFull = fsync;
                }
                Execute(_connection, "BEGIN IMMEDIATE");
                try
                {
                    foreach (var operation in batch) operation.Run(_connection);
                    Execute(_connection, "COMMIT");
                }
                catch
                {
                    RollBackQuietly();
                    throw;
                }
                foreach (var operation in batch) operation.Succeed();
                var added = batch.Where(o => o.Succeeded).SelectMany(o => o.Wakes).CountBy(q => q, StringComparer.Ordinal)
                    .ToDictionary(StringComparer.Ordinal);
                if (added.Count > 0) Committed?.Invoke(added);
            }
            catch (Exception ex)
            {
                // The commit failed (disk full, I/O error): nothing of this batch is stored, and every caller hears so.
                foreach (var operation in batch) operation.Fail(ex);
            }
            batch.Clear();
        }
    }

    private void RollBackQuietly()
    {
        try
        {
            Execute(_connection, "ROLLBACK");
        }
        catch (SqliteException)
        {
            // SQLite already rolled the transaction back (it does on I/O errors and a full disk).
        }
    }

    public async ValueTask DisposeAsync()
    {
        _operations.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        _connection.Dispose();
        await _lock.DisposeAsync().ConfigureAwait(false);
    }

    private abstract class Operation(string[] wakes, bool durable)
    {
        public string[] Wakes { get; } = wakes;
        public bool Durable { get; } = durable;
        public bool Succeeded { get; protected set; }
        public abstract void Run(SqliteConnection connection);
        public abstract void Succeed();
        public abstract void Fail(Exception exception);
    }

    private sealed class Operation<T>(Func<SqliteConnection, T> work, string[] wakes, bool durable) : Operation(wakes, durable)
    {
        private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private T? _result;
        private Exception? _error;

        public Task<T> Task => _done.Task;

        public override void Run(SqliteConnection connection)
        {
            try
            {
                _result = work(connection);
            }
            catch (SqliteException ex) when (ex.SqliteErrorCode is not (10 or 13)) // not SQLITE_IOERR / SQLITE_FULL
            {
                // This statement alone failed; the rest of the batch still commits.
                _error = ex;
            }
        }

        public override void Succeed()
        {
            if (_error is null)
            {
                Succeeded = true;
                _done.TrySetResult(_result!);
            }
            else
            {
                _done.TrySetException(_error);
            }
        }

        public override void Fail(Exception exception) => _done.TrySetException(exception);
    }
}
