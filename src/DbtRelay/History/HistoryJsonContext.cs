using System.Text.Json.Serialization;

namespace DbtRelay.History;

[JsonSerializable(typeof(EventTimeline))]
[JsonSerializable(typeof(EventPage))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;
