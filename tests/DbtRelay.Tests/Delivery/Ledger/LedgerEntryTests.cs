using System.Text;
using System.Text.Json;
using DbtRelay.Delivery.Ledger;

namespace DbtRelay.Tests.Delivery.Ledger;

public sealed class LedgerEntryTests
{
    private static readonly DateTimeOffset Until = new(2026, 11, 23, 2, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void Writes_what_an_operator_reads_in_storage_and_reads_it_back()
    {
        Assert.Equal("""{"state":"completed","detail":"syncId s1"}""", Encoding.UTF8.GetString(LedgerEntry.Completed("syncId s1").ToJson()));
        Assert.Equal(LedgerEntry.Completed("syncId s1"), LedgerEntry.Parse(LedgerEntry.Completed("syncId s1").ToJson()));
        Assert.Equal(LedgerEntry.Leased(Until), LedgerEntry.Parse(LedgerEntry.Leased(Until).ToJson()));
    }

    [Theory]
    [InlineData("""{"state":"leased","until":"2026-11-23T02:00:00.123\u002B00:00"}""", false)]
    [InlineData("""{"detail":"crm-sync","state":"completed","until":null,"future":{"x":[1]}}""", true)]
    public void Reads_entries_written_by_earlier_versions(string json, bool completed)
    {
        var entry = LedgerEntry.Parse(Encoding.UTF8.GetBytes(json));

        Assert.Equal(completed, entry.IsCompleted);
        Assert.Equal(completed ? null : Until, entry.Until);
    }

    [Theory]
    [InlineData("""{"until":"2026-11-23T02:00:00+00:00"}""")]
    [InlineData("""["leased"]""")]
    [InlineData("""{"state":"leased","until":"soon"}""")]
    public void Refuses_what_is_not_an_entry(string json) =>
        Assert.Throws<JsonException>(() => LedgerEntry.Parse(Encoding.UTF8.GetBytes(json)));
}
