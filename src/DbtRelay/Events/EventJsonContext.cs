using System.Text.Json.Serialization;

namespace DbtRelay.Events;

[JsonSerializable(typeof(EventEnvelope))]
internal sealed partial class EventJsonContext : JsonSerializerContext;
