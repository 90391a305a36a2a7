namespace DbtRelay.Routing;

public enum RouteResult
{
    FannedOut,
    NoMatch,
    Duplicate,
    Busy,
}
