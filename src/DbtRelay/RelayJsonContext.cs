using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using DbtRelay.Delivery;
using DbtRelay.Webhooks;

namespace DbtRelay;

/// <summary>Source-generated JSON for every queue message and HTTP answer the relay writes.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]

[JsonSerializable(typeof(EventEnvelope))]
[JsonSerializable(typeof(DeliveryMessage))]
[JsonSerializable(typeof(DeadLetter))]
[JsonSerializable(typeof(IntakeAnswer))]
[JsonSerializable(typeof(IntakeError))]
[JsonSerializable(typeof(LedgerEntry))]
[JsonSerializable(typeof(IReadOnlyList<DeadLetterSummary>))]
[JsonSerializable(typeof(ReplayAnswer))]
internal sealed partial class RelayJsonContext : JsonSerializerContext;
