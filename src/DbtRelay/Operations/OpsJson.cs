using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Events;

namespace DbtRelay.Operations;

/// <summary>The ops API's answers (errors, redeliveries, dead letters, replays, pauses) as both hosts write them and the CLI reads them.</summary>
public static class OpsJson
{
    private static readonly OpsJsonContext Context = new(EventJson.Options());

    public static byte[] Serialize(OpsError error) => JsonSerializer.SerializeToUtf8Bytes(error, Context.OpsError);
    public static byte[] Serialize(RedeliverAnswer answer) => JsonSerializer.SerializeToUtf8Bytes(answer, Context.RedeliverAnswer);
    public static byte[] Serialize(ResumeAnswer answer) => JsonSerializer.SerializeToUtf8Bytes(answer, Context.ResumeAnswer);
    public static byte[] Serialize(ReplayAnswer answer) => JsonSerializer.SerializeToUtf8Bytes(answer, Context.ReplayAnswer);
    public static byte[] Serialize(IReadOnlyList<DeadLetterSummary> deadLetters) => JsonSerializer.SerializeToUtf8Bytes(deadLetters, Context.IReadOnlyListDeadLetterSummary);
    public static RedeliverAnswer DeserializeRedeliverAnswer(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, Context.RedeliverAnswer) ?? throw new JsonException("A redeliver answer was JSON null.");
}
