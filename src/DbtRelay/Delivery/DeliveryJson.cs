using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Delivery;

/// <summary>How delivery messages, dead letters and the store's records are written, the same by every host.</summary>
public static class DeliveryJson
{
    internal static readonly DeliveryJsonContext Context = new(EventJson.Options());

    public static byte[] Serialize(DeliveryMessage delivery) => JsonSerializer.SerializeToUtf8Bytes(delivery, Context.DeliveryMessage);
    public static byte[] Serialize(DeadLetter deadLetter) => JsonSerializer.SerializeToUtf8Bytes(deadLetter, Context.DeadLetter);
    public static byte[] Serialize(PauseRecord pause) => JsonSerializer.SerializeToUtf8Bytes(pause, Context.PauseRecord);
    public static byte[] Serialize(IReadOnlyList<PauseRecord> pauses) => JsonSerializer.SerializeToUtf8Bytes(pauses, Context.IReadOnlyListPauseRecord);

    public static byte[] Serialize(CoalescedEvents window) => JsonSerializer.SerializeToUtf8Bytes(window, Context.CoalescedEvents);
    public static byte[] Serialize(CoalesceWindow window) => JsonSerializer.SerializeToUtf8Bytes(window, Context.CoalesceWindow);

    public static CoalescedEvents DeserializeCoalesced(ReadOnlyMemory<byte> json) =>
        EventJson.Read(json, Context.CoalescedEvents) ?? throw new JsonException("A coalescing window was JSON null.");

    public static CoalesceWindow DeserializeWindow(ReadOnlyMemory<byte> json) =>
        EventJson.Read(json, Context.CoalesceWindow) ?? throw new JsonException("A coalescing window pointer was JSON null.");

    public static PauseRecord DeserializePause(ReadOnlyMemory<byte> json) =>
        EventJson.Read(json, Context.PauseRecord) ?? throw new JsonException("A pause record was JSON null.");

    public static IReadOnlyList<PauseRecord> DeserializePauses(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Context.IReadOnlyListPauseRecord) ?? [];

    public static DeliveryMessage DeserializeDelivery(ReadOnlyMemory<byte> json) =>
        EventJson.Read(json, Context.DeliveryMessage)
        ?? throw new JsonException("The queue message is not a delivery message (it was JSON null).");

    public static DeadLetter DeserializeDeadLetter(ReadOnlyMemory<byte> json) =>
        EventJson.Read(json, Context.DeadLetter)
        ?? throw new JsonException("The queue message is not a dead letter (it was JSON null).");
}
