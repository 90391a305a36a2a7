using System.Net;
using DbtRelay.Operations;
using DbtRelay.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>
/// POST /api/dbt/webhook: hand the request to the library's intake (which stores the event on dbt-events, or answers
/// 503) and map its decision to the response. Nothing downstream is called here.
/// </summary>
public sealed class ReceiveDbtWebhook(WebhookIntake intake)
{
    /// <summary>
    /// Every method is listed so that the worker, not the host, answers the ones intake refuses: the host matches
    /// methods at the route and answers 404 for a method a function does not list, where the contract says 405.
    /// </summary>
    [Function(nameof(ReceiveDbtWebhook))]
    public async Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "get", "head", "put", "patch", "delete", "options", Route = WebhookIntake.Route)] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        var authorization = request.Headers.TryGetValues("Authorization", out var values) ? values.FirstOrDefault() : null;
        var decision = await intake.ReceiveAsync(request.Method, request.Body, ContentLength(request), authorization, cancellationToken);

        var response = request.CreateResponse((HttpStatusCode)decision.StatusCode);
        response.Headers.Add("Content-Type", "application/json");
        if (decision.StatusCode == (int)HttpStatusCode.MethodNotAllowed) response.Headers.Add("Allow", WebhookIntake.AllowedMethods);
        await response.Body.WriteAsync(decision.ResponseBody(), cancellationToken);
        return response;
    }

    [Function("Health")]
    public static Task<HttpResponseData> HealthAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = Health.Route)] HttpRequestData request,
        CancellationToken cancellationToken) =>
        JsonResponses.WriteAsync(request, Health.Answer, cancellationToken);

    private static long? ContentLength(HttpRequestData request) =>
        request.Headers.TryGetValues("Content-Length", out var values) && long.TryParse(values.FirstOrDefault(), out var length) ? length : null;
}
