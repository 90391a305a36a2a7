namespace DbtRelay.Webhooks;

/// <summary>Why a signed body is not a dbt event.</summary>
public sealed record PayloadProblem(string Code, string Message);
