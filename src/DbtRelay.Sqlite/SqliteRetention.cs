using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Sqlite;

/// <summary>
/// Keeps the database bounded: ledger entries untouched for longer than the retention window (30 days by default,
/// like the Azure ledger's lifecycle rule) are deleted once an hour, and the pages that handled messages and pruned
/// entries freed (a backlog's worth) are handed back to the file system. Dead letters stay until replayed (they are
/// the operator's to look at).
/// </summary>
public sealed partial class SqliteRetention(SqliteDatabase database, TimeProvider time, TimeSpan retention, ILogger<SqliteRetention> logger) : BackgroundService
{
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(30);

    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

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

    [LoggerMessage(6102, LogLevel.Warning, "Pruning the relay database failed; trying again in an hour.")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
