using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;

namespace DbtRelay.Functions;

/// <summary>The HTTP answer plus, when accepted, one message for queue dbt-events.</summary>
public sealed class WebhookOutput
{
    [QueueOutput(Delivery.QueueNames.Events)]
    public string? Event { get; init; }

    [HttpResult]
    public required HttpResponseData Response { get; init; }
}
