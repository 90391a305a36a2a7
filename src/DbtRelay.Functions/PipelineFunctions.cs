using System.Text;
using DbtRelay.Delivery;
using DbtRelay.Events;
using DbtRelay.Routing;
using Microsoft.Azure.Functions.Worker;

namespace DbtRelay.Functions;

/// <summary>
/// The queue-triggered stages. Each hands the message to the library, which enqueues deliveries, retries (as
/// delayed messages) and dead letters through <c>StorageRelayQueues</c>. An exception (a bug, or storage
/// down) lets the host retry the message and finally move it to the -poison queue: nothing is dropped silently.
/// </summary>
public sealed class PipelineFunctions(EventRouter router, DeliveryExecutor executor)
{
    [Function("RouteDbtEvent")]
    public Task RouteAsync([QueueTrigger(QueueNames.Events)] string message, CancellationToken cancellationToken) =>
        router.RouteAsync(EventJson.DeserializeEnvelope(Encoding.UTF8.GetBytes(message)), cancellationToken);

    [Function("DeliverSync")]
    public Task DeliverAsync([QueueTrigger(QueueNames.Deliveries)] string message, CancellationToken cancellationToken) =>
        executor.ExecuteAsync(DeliveryJson.DeserializeDelivery(Encoding.UTF8.GetBytes(message)), cancellationToken);
}
