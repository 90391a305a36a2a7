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
}
