using System.Text.Json.Serialization;

namespace DbtRelay.Webhooks;

[JsonSerializable(typeof(IntakeAnswer))]
[JsonSerializable(typeof(IntakeError))]
internal sealed partial class IntakeJsonContext : JsonSerializerContext;
