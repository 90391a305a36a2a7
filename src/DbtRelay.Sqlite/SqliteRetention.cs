using DbtRelay.Delivery;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Sqlite;

/// <summary>
/// Keeps the database bounded: ledger entries untouched for longer than the retention window (30 days by default,
/// like the Azure ledger's lifecycle rule) are deleted once an hour, and the pages that handled messages and pruned
/// entries freed (a backlog's worth) are handed back to the file system. Dead letters are the operator's to look at:
/// kept <see cref="DeadLetter.KeptFor"/> (90 days), with a warning once a day from a week before any is pruned.
/// </summary>
public sealed partial class SqliteRetention(SqliteDatabase database, TimeProvider time, TimeSpan retention, ILogger<SqliteRetention> logger) : BackgroundService
{
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan WarnEvery = TimeSpan.FromDays(1);
    private DateTimeOffset _lastWarned = DateTimeOffset.MinValue;

    /// <summary>Deletes dead letters kept longer than <see cref="DeadLetter.KeptFor"/>; returns how many.</summary>
    public Task<int> PruneDeadLettersAsync(CancellationToken cancellationToken)
    {
        var cutoff = (time.GetUtcNow() - DeadLetter.KeptFor).ToUnixTimeMilliseconds();
        return database.RunAsync(c => SqliteDatabase.Execute(c, "DELETE FROM dead_letters WHERE failed_at < $cutoff", ("$cutoff", cutoff)), cancellationToken);
    }

    /// <summary>Says, at most once a day, how many dead letters go within the warning week, while they can still be replayed.</summary>
    public async Task WarnAboutDeadLettersDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (now - _lastWarned < WarnEvery) return;
        var soon = (now - DeadLetter.KeptFor + DeadLetter.WarnBefore).ToUnixTimeMilliseconds();
        var count = await database.RunAsync(c => (long)SqliteDatabase.Command(c, "SELECT COUNT(*) FROM dead_letters WHERE failed_at < $soon", ("$soon", soon)).ExecuteScalar()!,
            cancellationToken).ConfigureAwait(false);
        if (count == 0) return;
        _lastWarned = now;
        LogDeadLettersDue(logger, count, DeadLetter.WarnBefore.TotalDays, DeadLetter.KeptFor.TotalDays);
    }

    /// <summary>Deletes ledger entries older than the window; returns how many.</summary>
    public Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        var cutoff = (time.GetUtcNow() - retention).ToUnixTimeMilliseconds();
        return database.RunAsync(c => SqliteDatabase.Execute(c, "DELETE FROM ledger WHERE updated_at < $cutoff", ("$cutoff", cutoff)), cancellationToken);
    }

    /// <summary>Returns free pages to the file system (a no-op for files created before incremental auto-vacuum).</summary>
    public Task<int> ReleaseFreePagesAsync(CancellationToken cancellationToken) =>
        database.RunAsync(c => SqliteDatabase.Execute(c, "PRAGMA incremental_vacuum"), cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var pruned = await PruneAsync(stoppingToken).ConfigureAwait(false);
                if (pruned > 0) LogPruned(logger, pruned, retention.TotalDays);
                var dead = await PruneDeadLettersAsync(stoppingToken).ConfigureAwait(false);
                if (dead > 0) LogDeadLettersPruned(logger, dead, DeadLetter.KeptFor.TotalDays);
                await WarnAboutDeadLettersDueAsync(stoppingToken).ConfigureAwait(false);
                await ReleaseFreePagesAsync(stoppingToken).ConfigureAwait(false);
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogPruneFailed(logger, ex);
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(6101, LogLevel.Information, "Pruned {Count} ledger entries older than {Days} days.")]
    private static partial void LogPruned(ILogger logger, int count, double days);

    [LoggerMessage(6103, LogLevel.Warning, "{Count} dead letter(s) will be pruned within {Days} days (they are kept {KeptDays} days): replay them (POST /api/ops/dead-letters/replay, or redeliver the event) or look at them now.")]
    private static partial void LogDeadLettersDue(ILogger logger, long count, double days, double keptDays);

    [LoggerMessage(6104, LogLevel.Warning, "Pruned {Count} dead letter(s) older than {Days} days.")]
    private static partial void LogDeadLettersPruned(ILogger logger, int count, double days);

    [LoggerMessage(6102, LogLevel.Warning, "Pruning the relay database failed; trying again in an hour.")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
