using System.Net;
using DbtRelay.Delivery;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>
/// The ops API for dead letters, the same routes as <c>dbt-relay serve</c> (function key required): list, replay all,
/// replay one event's delivery to one target. Replays are fresh first attempts; the ledger still guarantees one
/// successful call per event and target.
/// </summary>
public sealed class DeadLetterFunctions(IDeadLetters deadLetters)
{
    [Function("ListDeadLetters")]
    public async Task<HttpResponseData> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DeadLetterRoutes.Base)] HttpRequestData request,
        CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, HttpStatusCode.OK,
            DeliveryJson.Serialize(await deadLetters.ListAsync(DeadLetterRoutes.Limit(Max(request)), cancellationToken)), cancellationToken);

    [Function("ReplayDeadLetters")]
    public async Task<HttpResponseData> ReplayAllAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = DeadLetterRoutes.Replay)] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        var replayed = await deadLetters.ReplayAsync(DeadLetterRoutes.Limit(Max(request)), null, cancellationToken);
        return await JsonResponses.WriteAsync(request, HttpStatusCode.OK, DeliveryJson.Serialize(new ReplayAnswer(replayed)), cancellationToken);
    }

    [Function("ReplayDeadLetter")]
    public async Task<HttpResponseData> ReplayOneAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = DeadLetterRoutes.ReplayOne)] HttpRequestData request,
        string eventId, string target, CancellationToken cancellationToken)
    {
        var replayed = await deadLetters.ReplayAsync(1, new DeliveryAddress(eventId, target), cancellationToken);
        return replayed == 0
            ? request.CreateResponse(HttpStatusCode.NotFound)
            : await JsonResponses.WriteAsync(request, HttpStatusCode.OK, DeliveryJson.Serialize(new ReplayAnswer(replayed)), cancellationToken);
    }

    private static int? Max(HttpRequestData request) =>
        int.TryParse(System.Web.HttpUtility.ParseQueryString(request.Url.Query)["max"], out var max) ? max : null;
}
