using DbtRelay.Webhooks;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Targets;

/// <summary>Everything a target needs for one attempt.</summary>
public sealed record TargetCall(
    EventEnvelope Event,
    int Attempt,
    int Redelivery,
    TemplateValues Values,
    IReadOnlyDictionary<string, string> Secrets,
    HttpClient Http,
    TimeProvider Time,
    ILogger Logger);
