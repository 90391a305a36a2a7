namespace DbtRelay.Operations;

/// <summary>What <c>POST ops/targets/{name}/resume</c> answers: the target that was resumed.</summary>
public sealed record ResumeAnswer(string Resumed);
