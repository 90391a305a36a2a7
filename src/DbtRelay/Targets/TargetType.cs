using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>A relay.json target type: its name, how it reads its entry, and what <c>dbt-relay init</c> starts it with.</summary>
public sealed record TargetType(string Name, Func<TargetDefinition, IDeliveryTarget?> Create, Func<JsonObject> Starter);
