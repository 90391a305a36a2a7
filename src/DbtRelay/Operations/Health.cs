namespace DbtRelay.Operations;

/// <summary>The health route both hosts map under <c>/api/</c>, and its answer: the process is up and serving.</summary>
public static class Health
{
    public const string Route = "health";

    public static OpsAnswer Answer => new(200, """{"status":"ok"}"""u8.ToArray());
}
