namespace DbtRelay.Operations;

/// <summary>The ops API's answer to a replay: how many dead letters went back to the delivery queue.</summary>
public sealed record ReplayAnswer(int Replayed);
