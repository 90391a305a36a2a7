using DbtRelay.Delivery.Ledger;
using DbtRelay.InProcess;
using DbtRelay.Tests.Fakes;

namespace DbtRelay.Tests.Delivery.Ledger;

public sealed class ConditionalLedgerTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly ConditionalLedger _ledger;

    public ConditionalLedgerTests() => _ledger = new ConditionalLedger(new InMemoryConditionalStore(), _time);

    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task Of_many_concurrent_claimants_exactly_one_wins()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(async () => await _ledger.TryClaimAsync("wev_1/crm", Lease, default))));

        Assert.Single(claims, c => c.Status == ClaimStatus.Claimed);
        Assert.All(claims.Where(c => c.Status != ClaimStatus.Claimed), c => Assert.Equal(ClaimStatus.Busy, c.Status));
    }

    [Fact]
    public async Task A_completed_key_stays_completed_with_its_detail()
    {
        var claim = await _ledger.TryClaimAsync("k", Lease, default);
        await _ledger.CompleteAsync(claim, "syncId s1", default);
        _time.Advance(TimeSpan.FromDays(30));

        var again = await _ledger.TryClaimAsync("k", Lease, default);

        Assert.Equal(ClaimStatus.Completed, again.Status);
        Assert.Equal("syncId s1", again.Detail);
    }

    [Fact]
    public async Task A_released_key_can_be_claimed_again_at_once()
    {
        var claim = await _ledger.TryClaimAsync("k", Lease, default);
        await _ledger.ReleaseAsync(claim, default);

        Assert.Equal(ClaimStatus.Claimed, (await _ledger.TryClaimAsync("k", Lease, default)).Status);
    }

    [Fact]
    public async Task A_crashed_holders_lease_is_taken_over_only_after_it_expires()
    {
        await _ledger.TryClaimAsync("k", Lease, default); // the holder crashes and never completes

        var during = await _ledger.TryClaimAsync("k", Lease, default);
        _time.Advance(Lease + TimeSpan.FromSeconds(1));
        var after = await _ledger.TryClaimAsync("k", Lease, default);

        Assert.Equal(ClaimStatus.Busy, during.Status);
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromSeconds(1), during.BusyUntil);
        Assert.Equal(ClaimStatus.Claimed, after.Status);
        Assert.True(after.TakenOver, "the new holder must know the crashed one may have called the target");
    }

    [Fact]
    public async Task A_first_claim_and_one_after_a_release_are_not_takeovers()
    {
        var first = await _ledger.TryClaimAsync("k", Lease, default);
        await _ledger.ReleaseAsync(first, default); // a failed attempt: the target answered, nothing is in doubt
        var again = await _ledger.TryClaimAsync("k", Lease, default);

        Assert.Equal((ClaimStatus.Claimed, false), (first.Status, first.TakenOver));
        Assert.Equal((ClaimStatus.Claimed, false), (again.Status, again.TakenOver));
    }

    [Fact]
    public async Task A_stale_holder_cannot_release_the_lease_that_replaced_it()
    {
        var stale = await _ledger.TryClaimAsync("k", Lease, default);
        _time.Advance(Lease + TimeSpan.FromSeconds(1));
        var current = await _ledger.TryClaimAsync("k", Lease, default);

        await _ledger.ReleaseAsync(stale, default);

        Assert.Equal(ClaimStatus.Claimed, current.Status);
        Assert.Equal(ClaimStatus.Busy, (await _ledger.TryClaimAsync("k", Lease, default)).Status);
    }
}
