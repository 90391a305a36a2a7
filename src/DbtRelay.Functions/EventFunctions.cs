using DbtRelay.Operations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>
/// The events API, the same routes as <c>dbt-relay serve</c> (function key required): list the delivery history,
/// show one event's timeline, redeliver an event to one or all of its targets.
/// </summary>
public sealed class EventFunctions(EventsApi api)
{
    [Function("ListEvents")]
    public async Task<HttpResponseData> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = EventRoutes.List)] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        var query = System.Web.HttpUtility.ParseQueryString(request.Url.Query);
        return await JsonResponses.WriteAsync(request, await api.ListAsync(query["since"], query["status"], query["jobId"], query["target"], query["limit"], query["after"], cancellationToken), cancellationToken);
    }

    [Function("GetEvent")]
    public async Task<HttpResponseData> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = EventRoutes.One)] HttpRequestData request,
        string eventId, CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.GetAsync(eventId, cancellationToken), cancellationToken);

    [Function("RedeliverEvent")]
    public async Task<HttpResponseData> RedeliverAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = EventRoutes.Redeliver)] HttpRequestData request,
        string eventId, CancellationToken cancellationToken)
    {
        var target = System.Web.HttpUtility.ParseQueryString(request.Url.Query)["target"];
        return await JsonResponses.WriteAsync(request, await api.RedeliverAsync(eventId, string.IsNullOrEmpty(target) ? null : target, cancellationToken), cancellationToken);
    }
}
