using Microsoft.Extensions.Logging;

namespace DbtRelay.Routing;

public enum RouteResult
{
    FannedOut,
    NoMatch,
    Duplicate,
    Busy,
}
