namespace DbtRelay.Targets;

/// <summary>The target types relay.json knows. A new type: one file in Targets/ and one line here.</summary>
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

    /// <summary>Properties every target accepts.</summary>
    public static readonly string[] CommonProperties = ["type", "timeoutSeconds", "description", "coalesce"];
}
