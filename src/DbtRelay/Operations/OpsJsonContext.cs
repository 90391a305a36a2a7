using System.Text.Json.Serialization;
using DbtRelay.Delivery;

namespace DbtRelay.Operations;

[JsonSerializable(typeof(OpsError))]
[JsonSerializable(typeof(RedeliverAnswer))]
[JsonSerializable(typeof(ResumeAnswer))]
[JsonSerializable(typeof(ReplayAnswer))]
[JsonSerializable(typeof(IReadOnlyList<DeadLetterSummary>))]
internal sealed partial class OpsJsonContext : JsonSerializerContext;
