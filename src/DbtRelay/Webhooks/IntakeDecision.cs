using System.Text.Json;

namespace DbtRelay.Webhooks;

/// <summary>What intake decided about one request; hosts map it to their transport.</summary>
public abstract record IntakeDecision(int StatusCode)
{
    /// <summary>The JSON answer for the HTTP response (never contains a secret).</summary>
    public abstract byte[] ResponseBody();
}

/// <summary>Valid and signed: put <see cref="QueueMessage"/> on <c>dbt-events</c>, then answer 202.</summary>
public sealed record Accepted(EventEnvelope Envelope, byte[] QueueMessage) : IntakeDecision(202)
{
    public override byte[] ResponseBody() =>
        JsonSerializer.SerializeToUtf8Bytes(new IntakeAnswer(Envelope.EventId, "accepted"), RelayJson.Context.IntakeAnswer);
}

/// <summary>Refused: nothing is enqueued.</summary>
public sealed record Rejected(int Status, string Error, string Message) : IntakeDecision(Status)
{
    public override byte[] ResponseBody() =>
        JsonSerializer.SerializeToUtf8Bytes(new IntakeError(Error, Message), RelayJson.Context.IntakeError);

    public static Rejected TooLarge(int limit) =>
        new(413, "payload_too_large", $"The body exceeds the {limit / 1024} KiB limit.");
    public static readonly Rejected MethodNotAllowed = new(405, "method_not_allowed", "Only POST is accepted.");
    public static readonly Rejected NotStored = new(503, "not_stored", "The event could not be stored; nothing was accepted, so retry it.");
}

public sealed record IntakeAnswer(string EventId, string Status);

public sealed record IntakeError(string Error, string Message);
