using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.History;

/// <summary>The history as stored and as the events API answers it, the same on every host.</summary>
public static class HistoryJson
{
    internal static readonly HistoryJsonContext Context = new(EventJson.Options());

    public static byte[] ToJson(EventTimeline timeline) => JsonSerializer.SerializeToUtf8Bytes(timeline, Context.EventTimeline);
    public static byte[] Serialize(EventPage page) => JsonSerializer.SerializeToUtf8Bytes(page, Context.EventPage);
    public static EventTimeline DeserializeTimeline(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Context.EventTimeline) ?? throw new JsonException("An event timeline was JSON null.");
    public static EventPage DeserializePage(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Context.EventPage) ?? throw new JsonException("An event page was JSON null.");

    internal static BinaryData Serialize(EventTimeline timeline) => BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(timeline, Context.EventTimeline));
}
