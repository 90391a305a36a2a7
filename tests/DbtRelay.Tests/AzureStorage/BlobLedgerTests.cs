using DbtRelay.AzureStorage;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.AzureStorage;

/// <summary>The ledger over real blob semantics (If-None-Match, If-Match) in Azurite.</summary>
[Collection(AzuriteTests.Name)]
public sealed class BlobLedgerTests(Azurite azurite)
{
    private async Task<ConditionalLedger> LedgerAsync() =>
        new(new BlobConditionalStore(await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString)), TimeProvider.System);

    [SkippableFact]
    public async Task Of_many_concurrent_claimants_on_blobs_exactly_one_wins_and_completion_is_final()
    {
        var ledger = await LedgerAsync();

        var claims = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default).AsTask()));
        var winner = Assert.Single(claims, c => c.Status == ClaimStatus.Claimed);
        await ledger.CompleteAsync(winner, "syncId s1", default);
        var after = await ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default);

        Assert.Equal(ClaimStatus.Completed, after.Status);
        Assert.Equal("syncId s1", after.Detail);
    }

    [SkippableFact]
    public async Task A_released_blob_claim_can_be_taken_again_and_an_expired_one_is_taken_over()
    {
        var ledger = await LedgerAsync();

        var first = await ledger.TryClaimAsync("k1", TimeSpan.FromMinutes(1), default);
        await ledger.ReleaseAsync(first, default);
        var again = await ledger.TryClaimAsync("k1", TimeSpan.FromMinutes(1), default);
        await ledger.TryClaimAsync("k2", TimeSpan.FromMilliseconds(1), default); // its holder "crashes"
        await Task.Delay(50);
        var takeover = await ledger.TryClaimAsync("k2", TimeSpan.FromMinutes(1), default);

        Assert.Equal(ClaimStatus.Claimed, again.Status);
        Assert.Equal(ClaimStatus.Claimed, takeover.Status);
    }

    [SkippableFact]
    public async Task A_claim_made_before_the_ledger_container_exists_creates_it_instead_of_failing()
    {
        var storage = StorageClients.FromConnectionString(azurite.ConnectionString, $"ledger-missing-{Guid.NewGuid():N}");
        var ledger = new ConditionalLedger(new BlobConditionalStore(storage), TimeProvider.System);

        var claim = await ledger.TryClaimAsync("delivered/wev_early/crm", TimeSpan.FromMinutes(1), default);

        Assert.Equal(ClaimStatus.Claimed, claim.Status);
        Assert.True((await storage.Ledger.ExistsAsync()).Value);
    }

    [SkippableFact]
    public async Task The_delivery_history_on_blobs_lists_newest_first_and_keeps_concurrent_attempts() =>
        await HistoryScenario.RunAsync(new BlobConditionalStore(await AzureRelayInstance.FreshStorageAsync(azurite.ConnectionString)));
}
