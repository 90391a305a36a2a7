using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;

namespace DbtRelay.AspNetCore;

/// <summary>POST /api/dbt/webhook: the request to the library's intake (which stores the event, or answers 503), its decision to the response.</summary>
internal static class IntakeEndpoint
{
    public static async Task ReceiveAsync(HttpContext context, WebhookIntake intake, IHostApplicationLifetime lifetime)
    {
        var request = context.Request;
        // Once shutdown starts nothing more is taken (dbt retries), so nothing is accepted after the host's drain.
        var decision = lifetime.ApplicationStopping.IsCancellationRequested
            ? Rejected.ShuttingDown
            : await intake.ReceiveAsync(request.Method, request.Body, request.ContentLength, request.Headers.Authorization, context.RequestAborted);
        if (decision.StatusCode == StatusCodes.Status405MethodNotAllowed) context.Response.Headers.Allow = WebhookIntake.AllowedMethods;
        var answer = decision.ResponseBody();
        context.Response.StatusCode = decision.StatusCode;
        context.Response.ContentType = "application/json";
        // A known length: one write, no chunked framing for dbt (or a load balancer) to parse.
        context.Response.ContentLength = answer.Length;
        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }
}
