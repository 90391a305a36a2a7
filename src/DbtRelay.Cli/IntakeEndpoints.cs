using DbtRelay.Operations;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace DbtRelay.Cli;

/// <summary>The serve host's HTTP surface: the same routes and the same intake as the Functions app.</summary>
internal static class IntakeEndpoints
{
    public static void MapIntake(this IEndpointRouteBuilder app)
    {
        app.Map(RelayCli.WebhookPath, ReceiveAsync);
        app.MapGet("/api/" + Health.Route, () => Results.Bytes(Health.Answer.Body, "application/json"));
    }

    private static async Task ReceiveAsync(HttpContext context, WebhookIntake intake)
    {
        var request = context.Request;
        var decision = await intake.ReceiveAsync(request.Method, request.Body, request.ContentLength, request.Headers.Authorization, context.RequestAborted);
        if (decision.StatusCode == StatusCodes.Status405MethodNotAllowed) context.Response.Headers.Allow = WebhookIntake.AllowedMethods;
        var answer = decision.ResponseBody();
        context.Response.StatusCode = decision.StatusCode;
        context.Response.ContentType = "application/json";
        // A known length: one write, no chunked framing for dbt (or a load balancer) to parse.
        context.Response.ContentLength = answer.Length;
        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }
}
