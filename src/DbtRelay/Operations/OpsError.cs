namespace DbtRelay.Operations;

/// <summary>The body of a refused ops request: a code for scripts and a sentence for people.</summary>
public sealed record OpsError(string Error, string Message);
