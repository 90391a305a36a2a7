using System.Text.Json.Serialization;

namespace DbtRelay.Delivery.Ledger;

/// <summary>Ledger entries as stored: camelCase, nulls left out, the same whichever store holds them.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LedgerEntry))]
internal sealed partial class LedgerJsonContext : JsonSerializerContext;
