namespace DbtRelay.Targets;

/// <summary>Permanent: retrying cannot help (bad token, unknown connection). Dead-lettered with the reason.</summary>
public sealed record Failed(string Detail, bool CredentialsRejected = false) : TargetOutcome(Detail);
