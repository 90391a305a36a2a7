using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DbtRelay.AzureStorage;
using DbtRelay.Delivery;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.AzureStorage;

[Collection(AzuriteTests.Name)]
public sealed class StorageBootstrapTests(Azurite azurite)
{
    [SkippableFact]
    public async Task Creates_the_three_queues_and_the_ledger_container_on_an_empty_account()
    {
        var storage = StorageClients.FromConnectionString(azurite.ConnectionString, $"ledger-boot-{Guid.NewGuid():N}");
        foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters }) await storage.Queue(name).DeleteIfExistsAsync();
        var logs = new LogCapture();

        await new StorageBootstrap(storage, logs.For<StorageBootstrap>()).StartAsync(default);

        foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
        {
            Assert.True((await storage.Queue(name).ExistsAsync()).Value, name);
        }
        Assert.True((await storage.Ledger.ExistsAsync()).Value);
        Assert.Empty(logs.Entries);
    }

    [Fact]
    public async Task A_credential_that_cannot_sign_in_is_logged_and_does_not_stop_the_app()
    {
        var credential = new FailingCredential();
        var storage = new StorageClients(
            new QueueServiceClient(new Uri("https://relaytest.queue.core.windows.net"), credential, StorageClients.QueueOptions()),
            new BlobServiceClient(new Uri("https://relaytest.blob.core.windows.net"), credential).GetBlobContainerClient(StorageClients.LedgerContainer));
        var logs = new LogCapture();

        await new StorageBootstrap(storage, logs.For<StorageBootstrap>()).StartAsync(default);

        var warning = Assert.Single(logs.Entries);
        Assert.Contains("CredentialUnavailableException", warning.Text, StringComparison.Ordinal);
        Assert.Equal(1, credential.Calls);
    }

    private sealed class FailingCredential : TokenCredential
    {
        public int Calls;

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw Fail();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw Fail();

        private CredentialUnavailableException Fail()
        {
            Interlocked.Increment(ref Calls);
            return new CredentialUnavailableException("no managed identity here");
        }
    }
}
