using System.Globalization;
using DbtRelay.Delivery.Ledger;

namespace DbtRelay.Sqlite;

/// <summary>
/// The ledger's conditional store as rows: insert-if-absent to create, update-where-version to replace or delete
/// (the version is a counter). <c>updated_at</c> lets retention prune entries older than the window.
/// </summary>
public sealed class SqliteConditionalStore(SqliteDatabase database, TimeProvider time) : IConditionalStore
{
    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public async ValueTask<string?> TryCreateAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        var now = Now;
        var created = await database.RunAsync(c => SqliteDatabase.Execute(c,
            "INSERT INTO ledger (key, content, version, updated_at) VALUES ($key, $content, 1, $now) ON CONFLICT (key) DO NOTHING",
            ("$key", key), ("$content", content.ToArray()), ("$now", now)), cancellationToken).ConfigureAwait(false);
        return created == 1 ? "1" : null;
    }

    public async ValueTask<(BinaryData Content, string Version)?> ReadAsync(string key, CancellationToken cancellationToken) =>
        await database.RunAsync<(BinaryData, string)?>(c =>
        {
            var command = SqliteDatabase.Command(c, "SELECT content, version FROM ledger WHERE key = $key", ("$key", key));
            using var reader = command.ExecuteReader();
            return reader.Read()
                ? (new BinaryData((byte[])reader.GetValue(0)), reader.GetInt64(1).ToString(CultureInfo.InvariantCulture))
                : null;
        }, cancellationToken).ConfigureAwait(false);

    public async ValueTask<string?> TryReplaceAsync(string key, BinaryData content, string version, CancellationToken cancellationToken)
    {
        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var expected)) return null;
        var now = Now;
        var replaced = await database.RunAsync(c => SqliteDatabase.Execute(c,
            "UPDATE ledger SET content = $content, version = version + 1, updated_at = $now WHERE key = $key AND version = $version",
            ("$key", key), ("$content", content.ToArray()), ("$now", now), ("$version", expected)), cancellationToken).ConfigureAwait(false);
        return replaced == 1 ? (expected + 1).ToString(CultureInfo.InvariantCulture) : null;
    }

    public async ValueTask WriteAsync(string key, BinaryData content, CancellationToken cancellationToken)
    {
        var now = Now;
        await database.RunAsync(c => SqliteDatabase.Execute(c, """
            INSERT INTO ledger (key, content, version, updated_at) VALUES ($key, $content, 1, $now)
            ON CONFLICT (key) DO UPDATE SET content = excluded.content, version = version + 1, updated_at = excluded.updated_at
            """, ("$key", key), ("$content", content.ToArray()), ("$now", now)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask TryDeleteAsync(string key, string version, CancellationToken cancellationToken)
    {
        if (!long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var expected)) return;
        await database.RunAsync(c => SqliteDatabase.Execute(c, "DELETE FROM ledger WHERE key = $key AND version = $version",
            ("$key", key), ("$version", expected)), cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<string>> ListKeysAsync(string prefix, string? startAfter, int max, CancellationToken cancellationToken) =>
        await database.RunAsync<IReadOnlyList<string>>(c =>
        {
            // A range on the primary key: prefix <= key < prefix + U+FFFF, after the cursor (keys compare as binary text).
            var command = SqliteDatabase.Command(c,
                "SELECT key FROM ledger WHERE key >= $from AND key < $to AND key > $after ORDER BY key LIMIT $max",
                ("$from", prefix), ("$to", prefix + '\uffff'), ("$after", startAfter ?? ""), ("$max", max));
            using var reader = command.ExecuteReader();
            var keys = new List<string>();
            while (reader.Read()) keys.Add(reader.GetString(0));
            return keys;
        }, cancellationToken).ConfigureAwait(false);
}
