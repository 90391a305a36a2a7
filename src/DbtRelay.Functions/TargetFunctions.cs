using DbtRelay.Operations;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>The targets API, the same routes as <c>dbt-relay serve</c> (function key required): list paused targets, pause one, resume one.</summary>
public sealed class TargetFunctions(TargetsApi api)
{
    [Function("ListPausedTargets")]
    public async Task<HttpResponseData> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = TargetRoutes.List)] HttpRequestData request, CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.ListAsync(cancellationToken), cancellationToken);

    [Function("PauseTarget")]
    public async Task<HttpResponseData> PauseAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = TargetRoutes.Pause)] HttpRequestData request, string name, CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.PauseAsync(name, System.Web.HttpUtility.ParseQueryString(request.Url.Query)["reason"], cancellationToken), cancellationToken);

    [Function("ResumeTarget")]
    public async Task<HttpResponseData> ResumeAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = TargetRoutes.Resume)] HttpRequestData request, string name, CancellationToken cancellationToken) =>
        await JsonResponses.WriteAsync(request, await api.ResumeAsync(name, cancellationToken), cancellationToken);
}
