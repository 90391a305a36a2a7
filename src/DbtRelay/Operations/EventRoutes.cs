namespace DbtRelay.Operations;

/// <summary>
/// The events API's routes, the same under <c>/api/</c> on both hosts. None starts with <c>admin</c> or
/// <c>runtime</c>, which the Functions host reserves.
/// </summary>
public static class EventRoutes
{
    public const string List = "events";
    public const string One = "events/{eventId}";
    public const string Redeliver = "events/{eventId}/redeliver";
}
