using DbtRelay.Events;

namespace DbtRelay.Webhooks;

/// <summary>How intake writes its HTTP answers.</summary>
internal static class IntakeJson
{
    internal static readonly IntakeJsonContext Context = new(EventJson.Options());
}
