namespace DbtRelay.Operations;

/// <summary>
/// The ops API's routes and limits, shared by both hosts. Not under <c>admin/</c>: the Functions host reserves
/// every route that begins with <c>admin</c> or <c>runtime</c> and refuses to load a function that claims one.
/// </summary>
public static class DeadLetterRoutes
{
    public const string Base = "ops/dead-letters";
    public const string Replay = Base + "/replay";
    public const string ReplayOne = Base + "/{eventId}/{target}/replay";

    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The <c>max</c> query parameter, clamped to what one request may move.</summary>
    public static int Limit(int? max) => max is { } n ? Math.Clamp(n, 1, MaxLimit) : DefaultLimit;
}
