using System.Diagnostics;
using DbtRelay.Routing;
using DbtRelay.Secrets;
using DbtRelay.Targets;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Delivery;

/// <summary>What became of one delivery message.</summary>
public enum DeliveryResult
{
    Delivered,
    AlreadyDelivered,
    RetryScheduled,
    DeadLettered,
}
