using DbtRelay.Operations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>The dead-letter half of the ops API, the same routes and answers as <c>dbt-relay serve</c> (function key required).</summary>
public sealed class DeadLetterFunctions(DeadLettersApi api)
{
    [Function("ListDeadLetters")]
    public async Task<HttpResponseData> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DeadLetterRoutes.Base)] HttpRequestData request,
        CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.ListAsync(Max(request), cancellationToken), cancellationToken);

    [Function("ReplayDeadLetters")]
    public async Task<HttpResponseData> ReplayAllAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = DeadLetterRoutes.Replay)] HttpRequestData request,
        CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.ReplayAllAsync(Max(request), cancellationToken), cancellationToken);

    [Function("ReplayDeadLetter")]
    public async Task<HttpResponseData> ReplayOneAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = DeadLetterRoutes.ReplayOne)] HttpRequestData request,
        string eventId, string target, CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.ReplayOneAsync(eventId, target, cancellationToken), cancellationToken);

    private static int? Max(HttpRequestData request) =>
        int.TryParse(System.Web.HttpUtility.ParseQueryString(request.Url.Query)["max"], out var max) ? max : null;
}
