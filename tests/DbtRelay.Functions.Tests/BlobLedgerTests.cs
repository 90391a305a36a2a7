using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DbtRelay.Delivery;

namespace DbtRelay.Functions.Tests;

/// <summary>
/// The ledger over real blob semantics (If-None-Match, If-Match) in Azurite, which the workflow starts
/// (`npx azurite`); AZURITE_CONNECTION_STRING overrides the default development storage account.
/// </summary>
public sealed class BlobLedgerTests
{
    private static StorageClients Storage()
    {
        var connection = Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") ?? "UseDevelopmentStorage=true";
        var container = new BlobServiceClient(connection).GetBlobContainerClient($"ledger-test-{Guid.NewGuid():N}");
        container.CreateIfNotExists();
        return new StorageClients(new QueueServiceClient(connection), container);
    }

    [Fact]
    public async Task Of_many_concurrent_claimants_on_blobs_exactly_one_wins_and_completion_is_final()
    {
        var ledger = new ConditionalLedger(new BlobConditionalStore(Storage()), TimeProvider.System);

        var claims = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default).AsTask()));
        var winner = Assert.Single(claims, c => c.Status == ClaimStatus.Claimed);
        await ledger.CompleteAsync(winner, "syncId s1", default);
        var after = await ledger.TryClaimAsync("delivered/wev_1/crm", TimeSpan.FromMinutes(1), default);

        Assert.Equal(ClaimStatus.Completed, after.Status);
        Assert.Equal("syncId s1", after.Detail);
    }

    [Fact]
    public async Task A_released_blob_claim_can_be_taken_again_and_an_expired_one_is_taken_over()
    {
        var ledger = new ConditionalLedger(new BlobConditionalStore(Storage()), TimeProvider.System);

        var first = await ledger.TryClaimAsync("k1", TimeSpan.FromMinutes(1), default);
        await ledger.ReleaseAsync(first, default);
        var again = await ledger.TryClaimAsync("k1", TimeSpan.FromMinutes(1), default);
        await ledger.TryClaimAsync("k2", TimeSpan.FromMilliseconds(1), default); // its holder "crashes"
        await Task.Delay(50);
        var takeover = await ledger.TryClaimAsync("k2", TimeSpan.FromMinutes(1), default);

        Assert.Equal(ClaimStatus.Claimed, again.Status);
        Assert.Equal(ClaimStatus.Claimed, takeover.Status);
    }
}
