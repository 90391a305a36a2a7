using DbtRelay.Sqlite;

namespace DbtRelay.Cli.Serve;

/// <summary>Where <c>serve</c> keeps its queues, ledger and dead letters.</summary>
internal abstract record ServeStore
{
    /// <summary>The embedded database that <c>--data</c> names: durable, one process.</summary>
    public sealed record Embedded(string Path, SqliteDurability Durability = SqliteDurability.Full) : ServeStore
    {
        public override string Describe() =>
            $"embedded database {Path} (durable, synchronous={Durability.ToString().ToUpperInvariant()}; back it up with `sqlite3 {Path} .backup copy.db`)";
    }

    /// <summary>An Azure Storage account (Azurite locally): durable, shared by several instances.</summary>
    public sealed record AzureStorage(string ConnectionStringOrUrl) : ServeStore
    {
        public override string Describe() => Uri.TryCreate(ConnectionStringOrUrl, UriKind.Absolute, out var url) && url.Scheme == "https"
            ? $"Azure Storage {url.Host} (your Azure identity; shared by every serve instance using it)"
            : "Azure Storage by connection string (shared by every serve instance using it)";
    }

    /// <summary>This process's memory, for trying things out and tests: nothing survives the process.</summary>
    public sealed record InMemory : ServeStore
    {
        public override string Describe() => "in memory (--in-memory: everything queued is lost when serve stops)";
    }

    public abstract string Describe();

    /// <summary>The default database: per user, so that it does not land in a repository by accident.</summary>
    public static string DefaultDataPath { get; } =
        System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "dbt-relay", "relay.db");
}
