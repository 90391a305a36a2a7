using System.Net;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>How the ops functions answer: a status and a JSON body already written by the library.</summary>
internal static class JsonResponses
{
    /// <summary>An ops API answer (events, dead letters, targets) as the library wrote it.</summary>
    public static async Task<HttpResponseData> WriteAsync(HttpRequestData request, DbtRelay.Operations.OpsAnswer answer, CancellationToken cancellationToken)
    {
        var response = request.CreateResponse((HttpStatusCode)answer.Status);
        response.Headers.Add("Content-Type", "application/json");
        await response.Body.WriteAsync(answer.Body, cancellationToken);
        return response;
    }
}
