using System.Text.Json.Serialization;

namespace DbtRelay.Operations;

[JsonSerializable(typeof(OpsError))]
[JsonSerializable(typeof(RedeliverAnswer))]
internal sealed partial class OpsJsonContext : JsonSerializerContext;
