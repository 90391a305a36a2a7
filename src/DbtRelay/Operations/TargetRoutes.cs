namespace DbtRelay.Operations;

/// <summary>The targets API's routes, the same under <c>/api/</c> on both hosts.</summary>
public static class TargetRoutes
{
    public const string List = "ops/targets";
    public const string Pause = "ops/targets/{name}/pause";
    public const string Resume = "ops/targets/{name}/resume";
}
