using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using DbtRelay.Delivery;
using DbtRelay.Webhooks;

namespace DbtRelay;

/// <summary>Source-generated JSON for every queue message and HTTP answer the relay writes.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]

public static class RelayJson
{
    /// <summary>
    /// Relaxed escaping keeps queue messages small (dbt bodies are mostly ASCII with many quotes) while still
    /// producing valid JSON; messages are never embedded in HTML.
    /// </summary>
    internal static readonly RelayJsonContext Context = new(new JsonSerializerOptions
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    });

    public static byte[] Serialize(EventEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, Context.EventEnvelope);
    public static byte[] Serialize(DeliveryMessage delivery) => JsonSerializer.SerializeToUtf8Bytes(delivery, Context.DeliveryMessage);
    public static byte[] Serialize(DeadLetter deadLetter) => JsonSerializer.SerializeToUtf8Bytes(deadLetter, Context.DeadLetter);

    /// <summary>The ops API's answers, written the same way by both hosts.</summary>
    public static byte[] Serialize(IReadOnlyList<DeadLetterSummary> deadLetters) => JsonSerializer.SerializeToUtf8Bytes(deadLetters, Context.IReadOnlyListDeadLetterSummary);
    public static byte[] Serialize(ReplayAnswer answer) => JsonSerializer.SerializeToUtf8Bytes(answer, Context.ReplayAnswer);

    public static EventEnvelope DeserializeEnvelope(ReadOnlySpan<byte> json) =>
        Checked(JsonSerializer.Deserialize(json, Context.EventEnvelope), "event envelope");
    public static DeliveryMessage DeserializeDelivery(ReadOnlySpan<byte> json) =>
        Checked(JsonSerializer.Deserialize(json, Context.DeliveryMessage), "delivery message");
    public static DeadLetter DeserializeDeadLetter(ReadOnlySpan<byte> json) =>
        Checked(JsonSerializer.Deserialize(json, Context.DeadLetter), "dead letter");

    private static T Checked<T>(T? value, string what) where T : class =>
        value ?? throw new JsonException($"The queue message is not a {what} (it was JSON null).");
}
