namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// Ledger keys, one namespace per kind so that no target name can collide with the router's bookkeeping. The event
/// id comes from the (signed) body, so it is escaped into a single path segment.
/// </summary>
public static class LedgerKeys
{
    /// <summary>
    /// A value as one key segment: escaped, and <c>.</c> or <c>..</c> spelled out, since a blob name's dot segments are
    /// resolved like a URL's and would climb to another key.
    /// </summary>
    public static string Segment(string value) => value switch
    {
        "." => "%2E",
        ".." => "%2E%2E",
        _ => Uri.EscapeDataString(value),
    };

    public static string Routed(string eventId) => $"routed/{Segment(eventId)}";

    public static string Delivery(string eventId, string target) => $"delivered/{Segment(eventId)}/{target}";

    public static string Redelivery(string eventId, string target, int number) => $"redelivered/{Segment(eventId)}/{target}/{number}";

    /// <summary>
    /// The one call made for a coalescing window of <paramref name="target"/> (named after the event that opened it);
    /// <paramref name="number"/> &gt; 0 for a deliberate redelivery of that call.
    /// </summary>
    public static string Coalesced(string windowId, string target, int number) =>
        number > 0 ? $"coalesced/{Segment(windowId)}/{target}/{number}" : $"coalesced/{Segment(windowId)}/{target}";

    /// <summary>One status check of a followed run: each is done once, however many copies of its message arrive.</summary>
    public static string FollowCheck(string eventId, string target, string runId, int check) =>
        $"followed/{Segment(eventId)}/{target}/{Segment(runId)}/{check}";

    /// <summary>The <c>onFailure</c> call to <paramref name="notified"/> about one run of <paramref name="target"/>.</summary>
    public static string Notice(string eventId, string target, string runId, string notified) =>
        $"notified/{Segment(eventId)}/{target}/{Segment(runId)}/{notified}";
}
