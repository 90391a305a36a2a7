namespace DbtRelay.Functions.Tests;

/// <summary>Tests of this assembly that share one Azurite process (each uses its own queues or containers).</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteTests : ICollectionFixture<Azurite>
{
    public const string Name = "Azurite";
}
