using System.Net;
using DbtRelay.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>
/// POST /api/dbt/webhook: read the body once, let the library decide, enqueue on dbt-events through the output
/// binding and answer. Nothing downstream is called here.
/// </summary>
public sealed class ReceiveDbtWebhook(WebhookIntake intake)
{
    [Function(nameof(ReceiveDbtWebhook))]
    public async Task<WebhookOutput> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", "get", "put", "patch", "delete", Route = "dbt/webhook")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        IntakeDecision decision;
        if (!string.Equals(request.Method, "POST", StringComparison.OrdinalIgnoreCase))
        {
            decision = Rejected.MethodNotAllowed;
        }
        else if (await RequestBody.ReadAsync(request.Body, ContentLength(request), intake.MaxBodyBytes, cancellationToken) is not { } body)
        {
            decision = Rejected.TooLarge(intake.MaxBodyBytes);
        }
        else
        {
            var authorization = request.Headers.TryGetValues("Authorization", out var values) ? values.FirstOrDefault() : null;
            decision = await intake.DecideAsync(body, authorization, cancellationToken);
        }

        var response = request.CreateResponse((HttpStatusCode)decision.StatusCode);
        response.Headers.Add("Content-Type", "application/json");
        if (decision.StatusCode == 405) response.Headers.Add("Allow", "POST");
        await response.Body.WriteAsync(decision.ResponseBody(), cancellationToken);
        return new WebhookOutput
        {
            // Written by the host with host.json's messageEncoding ("none"), like every other writer of the queue.
            Event = decision is Accepted accepted ? System.Text.Encoding.UTF8.GetString(accepted.QueueMessage) : null,
            Response = response,
        };
    }

    [Function("Health")]
    public static HttpResponseData Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequestData request)
    {
        var response = request.CreateResponse(HttpStatusCode.OK);
        response.Headers.Add("Content-Type", "application/json");
        response.WriteString("""{"status":"ok"}""");
        return response;
    }

    private static long? ContentLength(HttpRequestData request) =>
        request.Headers.TryGetValues("Content-Length", out var values) && long.TryParse(values.FirstOrDefault(), out var length) ? length : null;
}

/// <summary>The HTTP answer plus, when accepted, one message for queue dbt-events.</summary>
public sealed class WebhookOutput
{
    [QueueOutput(DbtRelay.Delivery.QueueNames.Events)]
    public string? Event { get; init; }

    [HttpResult]
    public required HttpResponseData Response { get; init; }
}
