using DbtRelay.InProcess;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Cli;

/// <summary>The serve host's HTTP surface: the same routes and the same intake as the Functions app.</summary>
internal static partial class IntakeEndpoints
{
    public static void MapIntake(this IEndpointRouteBuilder app)
    {
        app.Map(RelayCli.WebhookPath, ReceiveAsync);
        app.MapGet("/api/health", () => Results.Json(new { status = "ok" }));
    }

    private static async Task ReceiveAsync(HttpContext context, WebhookIntake intake, IQueueConsumer queues)
    {
        var request = context.Request;
        var decision = await intake.ReceiveAsync(request.Method, request.Body, request.ContentLength, request.Headers.Authorization, context.RequestAborted);
        if (decision is Accepted accepted && !await StoreAsync(queues, accepted, context)) decision = Rejected.NotStored;
        if (decision.StatusCode == StatusCodes.Status405MethodNotAllowed) context.Response.Headers.Allow = WebhookIntake.AllowedMethods;
        var answer = decision.ResponseBody();
        context.Response.StatusCode = decision.StatusCode;
        context.Response.ContentType = "application/json";
        // A known length: one write, no chunked framing for dbt (or a load balancer) to parse.
        context.Response.ContentLength = answer.Length;
        await context.Response.Body.WriteAsync(answer, context.RequestAborted);
    }

    /// <summary>A 202 promises the event is stored: when the store refuses it (disk full, storage down), dbt gets a 503 and retries.</summary>
    private static async Task<bool> StoreAsync(IQueueConsumer queues, Accepted accepted, HttpContext context)
    {
        try
        {
            await queues.EnqueueAcceptedAsync(accepted, context.RequestAborted);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotStored(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("DbtRelay.Intake"), accepted.Envelope.EventId, ex);
            return false;
        }
    }

    [LoggerMessage(1101, LogLevel.Error, "Could not store accepted event {EventId}; answered 503 so dbt Cloud retries.")]
    private static partial void LogNotStored(ILogger logger, string eventId, Exception exception);
}
