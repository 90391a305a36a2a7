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
        await new StorageBootstrap(storage).StartAsync(default);

        foreach (var name in new[] { QueueNames.Events, QueueNames.Deliveries, QueueNames.DeadLetters })
        {
            Assert.True((await storage.Queue(name).ExistsAsync()).Value, name);
        }
        Assert.True((await storage.Ledger.ExistsAsync()).Value);
    }

    [SkippableFact]
    public async Task Azurite_refusing_the_sdks_api_version_stops_startup_with_azurites_own_advice()
    {
        // As the README once started it: without --skipApiVersionCheck, Azurite refuses the storage SDK's newer API
        // version, and a relay that started anyway filled its log with "queue does not exist" once a second.
        var strict = Azurite.Own(skipApiVersionCheck: false);
        await strict.InitializeAsync();
        StorageUnavailableException error;
        try
        {
            var storage = StorageClients.FromConnectionString(strict.ConnectionString);
            error = await Assert.ThrowsAsync<StorageUnavailableException>(() => new StorageBootstrap(storage).StartAsync(default));
        }
        finally
        {
            await strict.DisposeAsync();
        }

        Assert.StartsWith($"Cannot create the relay's queues and ledger container on http://127.0.0.1:", error.Message, StringComparison.Ordinal);
        Assert.Contains("400 InvalidHeaderValue", error.Message, StringComparison.Ordinal);
        Assert.Contains("--skipApiVersionCheck", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_storage_account_nobody_answers_at_stops_startup_saying_it_cannot_be_reached()
    {
        var port = LocalMachine.FreePort(); // nothing listens there
        var storage = StorageClients.FromConnectionString(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={Convert.ToBase64String(new byte[64])};" +
            $"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;");

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => new StorageBootstrap(storage).StartAsync(default));

        Assert.StartsWith($"Cannot create the relay's queues and ledger container on http://127.0.0.1:{port}: it cannot be reached (",
            error.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public async Task A_credential_that_cannot_sign_in_stops_startup_and_says_so()
    {
        var credential = new FailingCredential();
        var storage = new StorageClients(
            new QueueServiceClient(new Uri("https://relaytest.queue.core.windows.net"), credential, StorageClients.QueueOptions()),
            new BlobServiceClient(new Uri("https://relaytest.blob.core.windows.net"), credential).GetBlobContainerClient(StorageClients.LedgerContainer));

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => new StorageBootstrap(storage).StartAsync(default));

        Assert.Equal("Cannot create the relay's queues and ledger container on https://relaytest.queue.core.windows.net: " +
            "the identity cannot sign in: no managed identity here", error.Message);
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
