namespace DbtRelay.Webhooks;

public sealed record IntakeError(string Error, string Message);
