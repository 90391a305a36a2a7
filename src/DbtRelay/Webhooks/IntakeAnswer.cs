namespace DbtRelay.Webhooks;

public sealed record IntakeAnswer(string EventId, string Status);
