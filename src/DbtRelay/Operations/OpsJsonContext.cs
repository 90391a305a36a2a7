using System.Text.Json.Serialization;

namespace DbtRelay.Operations;

[JsonSerializable(typeof(OpsError))]
[JsonSerializable(typeof(RedeliverAnswer))]
[JsonSerializable(typeof(ResumeAnswer))]
internal sealed partial class OpsJsonContext : JsonSerializerContext;
