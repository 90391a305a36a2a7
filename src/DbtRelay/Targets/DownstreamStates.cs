namespace DbtRelay.Targets;

/// <summary>Where a downstream run started by the relay stands, in the relay's words (each vendor's are mapped to these).</summary>
public static class DownstreamStates
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed out";

    /// <summary>The status API could not tell (it kept failing, or refused the relay): nobody knows how the run ended.</summary>
    public const string Unknown = "unknown";

    public static bool IsTerminal(string state) => state != Running;
}
