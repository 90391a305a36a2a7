namespace DbtRelay.Sqlite;

/// <summary>How far a commit is on disk before the relay answers 202 (SQLite's <c>synchronous</c> in WAL mode).</summary>
public enum SqliteDurability
{
    /// <summary>Fsync'd on every commit: survives a crash of the process and of the machine (power loss). Default.</summary>
    Full,

    /// <summary>Written to the OS on every commit, fsync'd at checkpoints: survives a crash of the process, not of the machine.</summary>
    Normal,
}
