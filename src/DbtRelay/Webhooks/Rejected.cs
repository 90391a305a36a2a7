using System.Text.Json;

namespace DbtRelay.Webhooks;

/// <summary>Refused: nothing is enqueued.</summary>
public sealed record Rejected(int Status, string Error, string Message) : IntakeDecision(Status)
{
    public override byte[] ResponseBody() =>
        JsonSerializer.SerializeToUtf8Bytes(new IntakeError(Error, Message), IntakeJson.Context.IntakeError);

    public static Rejected TooLarge(int limit) =>
        new(413, "payload_too_large", $"The body exceeds the {limit / 1024} KiB limit.");
    public static readonly Rejected MethodNotAllowed = new(405, "method_not_allowed", "Only POST is accepted.");
    public static readonly Rejected ShuttingDown = new(503, "shutting_down", "The relay is stopping; nothing was accepted, so retry it.");
    public static readonly Rejected NotStored = new(503, "not_stored", "The event could not be stored; nothing was accepted, so retry it.");
}
