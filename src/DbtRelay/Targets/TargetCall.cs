using DbtRelay.Events;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Targets;

/// <summary>
/// Everything a target needs for one attempt. <see cref="Resumed"/>: this attempt was begun before by a worker that
/// stopped without finishing it (a crash, a kill), so the target may already have been called; a target that cannot
/// be called twice checks first, as it does on a retry.
/// </summary>
public sealed record TargetCall(
    EventEnvelope Event,
    int Attempt,
    int Redelivery,
    TemplateValues Values,
    IReadOnlyDictionary<string, string> Secrets,
    HttpClient Http,
    TimeProvider Time,
    ILogger Logger,
    bool Resumed = false)
{
    /// <summary>The host's Azure identity (managed identity in Azure), for targets that sign in with Entra ID.</summary>
    public Azure.Core.TokenCredential? Credential { get; init; }

    /// <summary>
    /// Sends without buffering the answer: a target reads what it needs through <see cref="HttpOutcomes"/>, which
    /// reads at most <see cref="HttpOutcomes.MaxAnswerBytes"/>, so a downstream cannot make the relay hold its body.
    /// </summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
}
