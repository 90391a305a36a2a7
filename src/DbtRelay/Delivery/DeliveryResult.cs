using System.Diagnostics;
using DbtRelay.Targets;
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
