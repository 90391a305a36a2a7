using System.Net.Http.Headers;
using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Routing;
using DbtRelay.Secrets;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Targets;

/// <summary>Everything a target needs for one attempt.</summary>
public sealed record TargetCall(
    DeliveryMessage Delivery,
    TemplateValues Values,
    IReadOnlyDictionary<string, string> Secrets,
    HttpClient Http,
    TimeProvider Time,
    ILogger Logger);
