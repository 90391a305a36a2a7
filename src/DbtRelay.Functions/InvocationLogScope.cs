using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Functions;

/// <summary>
/// Names the invocation in the log scope under the key the worker's log writer looks for when it sends a line to the
/// host. With the OpenTelemetry schema that Worker.OpenTelemetry selects, the worker's own invocation scope carries
/// only <c>faas.invocation_id</c>; the host then drops every relay line as written outside an invocation, and
/// <c>func start</c>'s console and the host's logs show "Executed … (Succeeded)" for a dead letter with no reason.
/// </summary>
internal sealed class InvocationLogScope(ILogger<InvocationLogScope> logger) : IFunctionsWorkerMiddleware
{
    /// <summary>The scope key the worker's gRPC log writer reads (TraceConstants.InternalKeys.FunctionInvocationId).</summary>
    public const string InvocationIdKey = "AzureFunctions_InvocationId";

    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        using (logger.BeginScope(new[] { new KeyValuePair<string, object>(InvocationIdKey, context.InvocationId) }))
        {
            await next(context).ConfigureAwait(false);
        }
    }
}
