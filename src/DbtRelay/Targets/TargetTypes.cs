using System.Text.Json.Nodes;

namespace DbtRelay.Targets;

/// <summary>The target types relay.json knows. A new type: one file in Targets/ (its reading, call and starter) and one line here.</summary>
public static class TargetTypes
{
    private static readonly TargetType[] Known =
    [
        new(RudderStackRetlTarget.TypeName, RudderStackRetlTarget.Create, RudderStackRetlTarget.Starter),
        new(ElementaryTarget.TypeName, ElementaryTarget.Create, ElementaryTarget.Starter),
        new(DbtCloudJobTarget.TypeName, DbtCloudJobTarget.Create, DbtCloudJobTarget.Starter),
        new(HttpTarget.TypeName, HttpTarget.Create, HttpTarget.Starter),
        new(HightouchTarget.TypeName, HightouchTarget.Create, HightouchTarget.Starter),
        new(CensusTarget.TypeName, CensusTarget.Create, CensusTarget.Starter),
        new(PowerBiRefreshTarget.TypeName, PowerBiRefreshTarget.Create, PowerBiRefreshTarget.Starter),
    ];

    public static readonly IReadOnlyDictionary<string, Func<TargetDefinition, IDeliveryTarget?>> All = Known.ToDictionary(t => t.Name, t => t.Create);

    /// <summary>Each type's starter for <c>dbt-relay init</c>, owned by the type.</summary>
    public static readonly IReadOnlyDictionary<string, Func<JsonObject>> Starters = Known.ToDictionary(t => t.Name, t => t.Starter);

    /// <summary>Properties every target accepts.</summary>
    public static readonly string[] CommonProperties = ["type", "timeoutSeconds", "description", "coalesce"];
}
