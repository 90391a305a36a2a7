using System.Text;
using BenchmarkDotNet.Attributes;
using DbtRelay.Delivery;
using DbtRelay.Delivery.Ledger;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Webhooks;

namespace DbtRelay.Benchmarks;

/// <summary>
/// What the pipeline does with each message before any downstream call: read the event envelope back from its
/// queue message, read a delivery message, and claim the event in the ledger (new, and a copy already routed, which
/// is what dbt's retries produce).
/// </summary>
[MemoryDiagnoser]
public class PipelineBenchmarks
{
    private byte[] _envelope = null!;
    private byte[] _delivery = null!;
    private ConditionalLedger _ledger = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        var body = Encoding.UTF8.GetBytes(Payloads.OneKiB);
        DbtEventReader.TryRead(body, out var facts, out _);
        var envelope = EventEnvelope.From(facts!, "prod", DateTimeOffset.UtcNow, body) with { TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        _envelope = EventJson.Serialize(envelope);
        _delivery = DeliveryJson.Serialize(new DeliveryMessage { Target = "sink", Attempt = 1, FirstQueuedAt = DateTimeOffset.UtcNow, Event = envelope, TraceParent = envelope.TraceParent });
        _ledger = new ConditionalLedger(new InMemoryConditionalStore(), TimeProvider.System);
        var claim = _ledger.TryClaimAsync("routed/wev_done", TimeSpan.FromMinutes(2), default).AsTask().GetAwaiter().GetResult();
        _ledger.CompleteAsync(claim, "sink", default).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark]
    public EventEnvelope Read_envelope() => EventJson.DeserializeEnvelope(_envelope);

    /// <summary>The floor for any reader that checks the message: only tokenizing it, nothing kept.</summary>
    [Benchmark]
    public long Tokenize_envelope_only()
    {
        var reader = new System.Text.Json.Utf8JsonReader(_envelope);
        reader.Read();
        reader.Skip();
        return reader.BytesConsumed;
    }

    [Benchmark]
    public byte[] Write_envelope() => EventJson.Serialize(EventJson.DeserializeEnvelope(_envelope));

    [Benchmark]
    public DeliveryMessage Read_delivery() => DeliveryJson.DeserializeDelivery(_delivery);

    [Benchmark]
    public LedgerClaim Claim_a_copy_already_routed() => Completed(_ledger.TryClaimAsync("routed/wev_done", TimeSpan.FromMinutes(2), default));

    [Benchmark]
    public LedgerClaim Claim_new_then_complete()
    {
        // A fresh store now and then, so the measurement is not of a dictionary growing without end.
        if (++_next % 100_000 == 0) _ledger = new ConditionalLedger(new InMemoryConditionalStore(), TimeProvider.System);
        var claim = Completed(_ledger.TryClaimAsync($"routed/wev_{_next}", TimeSpan.FromMinutes(2), default));
        var completed = _ledger.CompleteAsync(claim, "sink", default);
        if (!completed.IsCompletedSuccessfully) throw new InvalidOperationException("the in-memory ledger went asynchronous");
        return claim;
    }

    private static LedgerClaim Completed(ValueTask<LedgerClaim> claim) =>
        claim.IsCompletedSuccessfully ? claim.Result : throw new InvalidOperationException("the in-memory ledger went asynchronous");
}
