namespace DbtRelay.Operations;

/// <summary>An ops API answer as both hosts write it: a status and a JSON body.</summary>
public sealed record OpsAnswer(int Status, byte[] Body);
