using System.Net;
using System.Text;
using Azure.Storage.Queues;
using DbtRelay.Delivery;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>
/// POST /api/admin/dead-letters/replay?max=N (function key required): moves dead letters back to dbt-deliveries as
/// fresh first attempts. The ledger still guarantees one call per event and target.
/// </summary>
public sealed class ReplayDeadLetters(StorageClients storage, IRelayQueues queues, TimeProvider time)
{
    [Function(nameof(ReplayDeadLetters))]
    public async Task<HttpResponseData> RunAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = "admin/dead-letters/replay")] HttpRequestData request,
        CancellationToken cancellationToken)
    {
        var max = int.TryParse(System.Web.HttpUtility.ParseQueryString(request.Url.Query)["max"], out var n) ? Math.Clamp(n, 1, 1000) : 100;
        var failed = storage.Queue(QueueNames.DeadLetters);
        var replayed = 0;
        while (replayed < max)
        {
            var batch = (await failed.ReceiveMessagesAsync(Math.Min(32, max - replayed), TimeSpan.FromMinutes(1), cancellationToken)).Value;
            if (batch.Length == 0) break;
            foreach (var message in batch)
            {
                var deadLetter = RelayJson.DeserializeDeadLetter(Encoding.UTF8.GetBytes(message.MessageText));
                await queues.EnqueueDeliveryAsync(deadLetter.ToReplay(time.GetUtcNow()), TimeSpan.Zero, cancellationToken);
                await failed.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                replayed++;
            }
        }
        var response = request.CreateResponse(HttpStatusCode.OK);
        await response.WriteStringAsync($$"""{"replayed":{{replayed}}}""", cancellationToken);
        return response;
    }
}
