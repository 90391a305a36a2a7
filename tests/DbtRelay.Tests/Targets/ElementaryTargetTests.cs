using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Targets;

/// <summary>The elementary target against a fake Elementary webhook: the body is signed with its secret.</summary>
public sealed class ElementaryTargetTests : ThreeTargetRelay
{
    [Fact]
    public async Task Elementary_receives_a_body_signed_with_its_secret()
    {
        await using var relay = new RelayHarness(Config(), Secrets);

        await relay.SendAsync(DbtPayloads.Completed());
        await relay.RunDueAsync();

        Assert.True(Assert.Single(Elementary.SignatureChecks));
        Assert.Empty(Assert.Single(Elementary.Received).Body);
    }
}
