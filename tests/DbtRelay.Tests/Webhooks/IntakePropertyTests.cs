using System.Text.Json;
using CsCheck;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Options;

namespace DbtRelay.Tests.Webhooks;

/// <summary>
/// Whatever bytes arrive correctly signed, intake answers 202 or a 4xx, never a 5xx or an exception, and what it
/// accepts can be read back from its queue message (a 202 must stay deliverable).
/// </summary>
public sealed class IntakePropertyTests
{
    private const string Secret = "property-secret";
    private static readonly byte[] Valid = DbtPayloads.Bytes(DbtPayloads.Completed());
    private readonly WebhookIntake _intake = new(new StaticWebhookSecrets([new WebhookSecret("prod", Secret)]), new InMemoryRelayQueues(TimeProvider.System),
        Options.Create(new IntakeOptions()), new ManualTimeProvider(), new LogCapture().For<WebhookIntake>());

    /// <summary>A valid dbt body with a few bytes replaced, inserted or removed: near misses of every kind.</summary>
    private static readonly Gen<byte[]> NearMisses =
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Int[0, 2], Gen.Byte.Array[1, 4]).Array[1, 4].Select(edits =>
        {
            var bytes = Valid.ToList();
            foreach (var (at, kind, with) in edits)
            {
                var position = Math.Min(at, bytes.Count - 1);
                switch (kind)
                {
                    case 0: bytes[position] = with[0]; break;
                    case 1: bytes.InsertRange(position, with); break;
                    default: bytes.RemoveRange(position, Math.Min(with.Length, bytes.Count - position)); break;
                }
            }
            return bytes.ToArray();
        });

    /// <summary>JSON-ish text: the reader's own alphabet, in random order.</summary>
    private static readonly Gen<byte[]> JsonIsh =
        Gen.String[Gen.Char["{}[]\":,\\ubdnrtfl0123456789.-+eE \n\ud800\udc00\u00e9"], 0, 200].Select(System.Text.Encoding.UTF8.GetBytes);

    private static readonly Gen<byte[]> AnyBytes = Gen.Byte.Array[0, 600];

    [Fact]
    public async Task Any_signed_body_gets_a_202_that_stays_deliverable_or_a_4xx_never_a_5xx()
    {
        await Gen.OneOf<byte[]>(new IGen<byte[]>[] { NearMisses, JsonIsh, AnyBytes }).SampleAsync(async body =>
        {
            var decision = await _intake.DecideAsync(body, DbtPayloads.Sign(Secret, body), default);

            Assert.True(decision.StatusCode is 202 or (>= 400 and < 500), $"answered {decision.StatusCode}");
            if (decision is Accepted accepted)
            {
                using var strict = JsonDocument.Parse(body); // what was accepted is one strict JSON object
                Assert.Equal(JsonValueKind.Object, strict.RootElement.ValueKind);
                var readBack = EventJson.DeserializeEnvelope(accepted.QueueMessage);
                Assert.Equal(accepted.Envelope.EventId, readBack.EventId);
            }
        }, iter: 3000, threads: 1);
    }
}
