namespace DbtRelay.Delivery.Ledger;

/// <summary>
/// Ledger keys, one namespace per kind so that no target name can collide with the router's bookkeeping. The event
/// id comes from the (signed) body, so it is escaped into a single path segment.
/// </summary>
public static class LedgerKeys
{
    public static string Routed(string eventId) => $"routed/{Uri.EscapeDataString(eventId)}";

    public static string Delivery(string eventId, string target) => $"delivered/{Uri.EscapeDataString(eventId)}/{target}";

    public static string Redelivery(string eventId, string target, int number) => $"redelivered/{Uri.EscapeDataString(eventId)}/{target}/{number}";

    /// <summary>
    /// The one call made for a coalescing window of <paramref name="target"/> (named after the event that opened it);
    /// <paramref name="number"/> &gt; 0 for a deliberate redelivery of that call.
    /// </summary>
    public static string Coalesced(string windowId, string target, int number) =>
        number > 0 ? $"coalesced/{Uri.EscapeDataString(windowId)}/{target}/{number}" : $"coalesced/{Uri.EscapeDataString(windowId)}/{target}";

    /// <summary>One status check of a followed run: each is done once, however many copies of its message arrive.</summary>
    public static string FollowCheck(string eventId, string target, string runId, int check) =>
        $"followed/{Uri.EscapeDataString(eventId)}/{target}/{Uri.EscapeDataString(runId)}/{check}";

    /// <summary>The <c>onFailure</c> call to <paramref name="notified"/> about one run of <paramref name="target"/>.</summary>
    public static string Notice(string eventId, string target, string runId, string notified) =>
        $"notified/{Uri.EscapeDataString(eventId)}/{target}/{Uri.EscapeDataString(runId)}/{notified}";
}
