using System.Text.Json.Serialization;

namespace DbtRelay.Webhooks;

[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(IntakeAnswer))]
[JsonSerializable(typeof(IntakeError))]
internal sealed partial class WebhookJsonContext : JsonSerializerContext;
