using System.Net;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>How the ops functions answer: a status and a JSON body already written by the library.</summary>
internal static class JsonResponses
{
    public static async Task<HttpResponseData> WriteAsync(HttpRequestData request, HttpStatusCode status, byte[] body, CancellationToken cancellationToken)
    {
        var response = request.CreateResponse(status);
        response.Headers.Add("Content-Type", "application/json");
        await response.Body.WriteAsync(body, cancellationToken);
        return response;
    }

    /// <summary>An ops API answer (events, targets) as the library wrote it.</summary>
    public static Task<HttpResponseData> WriteAsync(HttpRequestData request, DbtRelay.Operations.OpsAnswer answer, CancellationToken cancellationToken) =>
        WriteAsync(request, (HttpStatusCode)answer.Status, answer.Body, cancellationToken);
}
