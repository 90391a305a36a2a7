using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>The target types relay.json knows. A new type: one file in Targets/ (its reading, call and starter) and a line in each table here.</summary>
public static class TargetTypes
{
    public static readonly IReadOnlyDictionary<string, Func<TargetDefinition, IDeliveryTarget?>> All =
        new Dictionary<string, Func<TargetDefinition, IDeliveryTarget?>>
        {
            [RudderStackRetlTarget.TypeName] = RudderStackRetlTarget.Create,
            [ElementaryTarget.TypeName] = ElementaryTarget.Create,
            [DbtCloudJobTarget.TypeName] = DbtCloudJobTarget.Create,
            [HttpTarget.TypeName] = HttpTarget.Create,
            [HightouchTarget.TypeName] = HightouchTarget.Create,
            [CensusTarget.TypeName] = CensusTarget.Create,
            [PowerBiRefreshTarget.TypeName] = PowerBiRefreshTarget.Create,
        };

    /// <summary>Each type's starter for <c>dbt-relay init</c>, owned by the type (tested: every type has one).</summary>
    public static readonly IReadOnlyDictionary<string, Func<JsonObject>> Starters =
        new Dictionary<string, Func<JsonObject>>
        {
            [RudderStackRetlTarget.TypeName] = RudderStackRetlTarget.Starter,
            [ElementaryTarget.TypeName] = ElementaryTarget.Starter,
            [DbtCloudJobTarget.TypeName] = DbtCloudJobTarget.Starter,
            [HttpTarget.TypeName] = HttpTarget.Starter,
            [HightouchTarget.TypeName] = HightouchTarget.Starter,
            [CensusTarget.TypeName] = CensusTarget.Starter,
            [PowerBiRefreshTarget.TypeName] = PowerBiRefreshTarget.Starter,
        };

    /// <summary>Properties every target accepts.</summary>
    public static readonly string[] CommonProperties = ["type", "timeoutSeconds", "description", "coalesce"];
}
