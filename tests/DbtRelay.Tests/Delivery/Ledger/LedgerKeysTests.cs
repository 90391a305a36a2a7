using DbtRelay.Delivery.Ledger;

namespace DbtRelay.Tests.Delivery.Ledger;

/// <summary>Keys built from event ids (the signed body's) stay one segment each: no id reaches another event's key.</summary>
public sealed class LedgerKeysTests
{
    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("../routed/x")]
    public void An_event_id_is_one_segment_with_no_dot_segment_a_blob_name_would_resolve(string eventId)
    {
        foreach (var key in new[] { LedgerKeys.Routed(eventId), LedgerKeys.Delivery(eventId, "t"), LedgerKeys.Coalesced(eventId, "t", 0), LedgerKeys.FollowCheck(eventId, "t", eventId, 1) })
        {
            var segments = key.Split('/');
            Assert.DoesNotContain(".", segments);
            Assert.DoesNotContain("..", segments);
        }
        Assert.Equal(2, LedgerKeys.Routed(eventId).Split('/').Length);
    }

    [Fact]
    public void Dot_ids_do_not_collide_with_each_other_or_with_their_escaped_spelling()
    {
        Assert.Equal(3, new[] { LedgerKeys.Delivery(".", "t"), LedgerKeys.Delivery("..", "t"), LedgerKeys.Delivery("%2E", "t") }.Distinct().Count());
    }
}
