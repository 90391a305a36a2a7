using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Webhooks;

/// <summary>Valid and signed: put <see cref="QueueMessage"/> on <c>dbt-events</c>, then answer 202.</summary>
public sealed record Accepted(EventEnvelope Envelope, byte[] QueueMessage) : IntakeDecision(202)
{
    public override byte[] ResponseBody() =>
        JsonSerializer.SerializeToUtf8Bytes(new IntakeAnswer(Envelope.EventId, "accepted"), IntakeJson.Context.IntakeAnswer);
}
