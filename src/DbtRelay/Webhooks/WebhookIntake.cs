using System.Diagnostics;
using System.Text.Unicode;
using DbtRelay.Events;
using DbtRelay.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Webhooks;

/// <summary>
/// The intake decision: signature, payload, envelope. Pure and in memory, so it answers in microseconds; the host
/// only enqueues <see cref="Accepted.QueueMessage"/> and writes the response.
/// </summary>
public sealed partial class WebhookIntake(
    IWebhookSecretProvider secrets,
    IAcceptedEventStore store,
    IOptions<IntakeOptions> options,
    TimeProvider time,
    ILogger<WebhookIntake> logger)
{
    private readonly IntakeOptions _options = options.Value;

    /// <summary>Where every host maps intake, under <c>/api/</c>: the URL dbt Cloud's webhook subscription names.</summary>
    public const string Route = "dbt/webhook";

    /// <summary>The one method intake answers; hosts send it as <c>Allow</c> with a 405.</summary>
    public const string AllowedMethods = "POST";

    public int MaxBodyBytes => _options.MaxBodyBytes;

    /// <summary>
    /// The whole receive flow that every host only maps to a response: method, size limit (read at most once, never
    /// past the limit), <see cref="DecideAsync"/>, then the event stored on <c>dbt-events</c>. A 202 means stored: when
    /// the store refuses the event (disk full, storage down) the answer is a 503, so dbt Cloud retries it.
    /// </summary>
    public async ValueTask<IntakeDecision> ReceiveAsync(string method, Stream body, long? contentLength, string? authorization, CancellationToken cancellationToken)
    {
        if (!string.Equals(method, AllowedMethods, StringComparison.OrdinalIgnoreCase)) return Measured(Rejected.MethodNotAllowed, time.GetTimestamp());
        if (await RequestBody.ReadAsync(body, contentLength, _options.MaxBodyBytes, cancellationToken).ConfigureAwait(false) is not { } bytes)
        {
            return Measured(Rejected.TooLarge(_options.MaxBodyBytes), time.GetTimestamp());
        }
        var decision = await DecideAsync(bytes, authorization, cancellationToken).ConfigureAwait(false);
        if (decision is not Accepted accepted) return decision;
        try
        {
            await store.StoreAsync(accepted, cancellationToken).ConfigureAwait(false);
            return accepted;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNotStored(logger, accepted.Envelope.EventId, ex);
            return Rejected.NotStored;
        }
    }

    /// <summary>The decision on a body already read, inside the event's first span and measured.</summary>
    public async ValueTask<IntakeDecision> DecideAsync(ReadOnlyMemory<byte> body, string? authorization, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        using var activity = RelayTelemetry.Source.StartActivity("dbt-relay intake", ActivityKind.Internal);
        var decision = await DecideCoreAsync(body, authorization, cancellationToken).ConfigureAwait(false);
        if (activity is not null)
        {
            activity.SetTag("http.response.status_code", decision.StatusCode);
            if (decision is Accepted { Envelope: var e })
            {
                activity.SetTag(TelemetryTags.EventId, e.EventId).SetTag(TelemetryTags.JobId, e.JobId).SetTag(TelemetryTags.RunId, e.RunId);
            }
            else
            {
                activity.SetStatus(ActivityStatusCode.Error, ((Rejected)decision).Error);
            }
        }
        return Measured(decision, started);
    }

    private IntakeDecision Measured(IntakeDecision decision, long started)
    {
        if (decision is Accepted accepted) RelayTelemetry.Accepted.Add(1, new KeyValuePair<string, object?>("webhook", accepted.Envelope.Webhook));
        else RelayTelemetry.Rejected.Add(1, new KeyValuePair<string, object?>("reason", ((Rejected)decision).Error));
        RelayTelemetry.IntakeDuration.Record(time.GetElapsedTime(started).TotalMilliseconds, new KeyValuePair<string, object?>("status", decision.StatusCode));
        return decision;
    }

    private async ValueTask<IntakeDecision> DecideCoreAsync(ReadOnlyMemory<byte> body, string? authorization, CancellationToken cancellationToken)
    {
        if (body.Length > _options.MaxBodyBytes) return Rejected.TooLarge(_options.MaxBodyBytes);

        var candidates = secrets.Current;
        if (candidates.Count == 0)
        {
            LogNoSecrets(logger);
            return new Rejected(503, "not_configured", "No webhook secret is configured; the relay refuses unsigned events.");
        }

        var presented = new byte[32];
        if (string.IsNullOrWhiteSpace(authorization) || !WebhookSignature.TryDecode(authorization, presented))
        {
            LogSignatureMissing(logger, string.IsNullOrWhiteSpace(authorization) ? "missing" : "not 64 hex characters");
            return InvalidSignature;
        }

        var matched = Match(candidates, body.Span, presented);
        if (matched is null && await secrets.RefreshAfterMismatchAsync(candidates, cancellationToken).ConfigureAwait(false))
        {
            candidates = secrets.Current;
            matched = Match(candidates, body.Span, presented);
        }
        if (matched is null)
        {
            LogSignatureMismatch(logger, string.Join(", ", candidates.Select(static s => s.ToString())));
            return InvalidSignature;
        }

        if (!Utf8.IsValid(body.Span))
        {
            return new Rejected(400, "invalid_json", "The body is not valid UTF-8 JSON.");
        }
        if (!DbtEventReader.TryRead(body.Span, out var facts, out var problem))
        {
            LogNotAnEvent(logger, matched.Name, problem!.Message);
            return new Rejected(400, problem.Code, problem.Message);
        }

        var now = time.GetUtcNow();
        if (facts!.Timestamp is { } signedAt && (now - signedAt > _options.MaxEventAge || signedAt - now > IntakeOptions.MaxClockSkew))
        {
            var stale = now - signedAt > _options.MaxEventAge;
            LogOutOfWindow(logger, facts.EventId, matched.Name, signedAt, stale ? "older than" : "ahead of the relay's clock by more than",
                stale ? (long)_options.MaxEventAge.TotalHours : (long)IntakeOptions.MaxClockSkew.TotalHours);
            return stale
                ? new Rejected(400, "stale_event", $"The event's signed timestamp {signedAt:O} is older than {_options.MaxEventAge.TotalDays:0.#} days (Intake__MaxEventAge): a replay, not a dbt Cloud retry. To run its syncs again, use redeliver.")
                : new Rejected(400, "timestamp_in_future", $"The event's signed timestamp {signedAt:O} is more than {IntakeOptions.MaxClockSkew.TotalHours:0} h ahead of the relay's clock ({now:O}).");
        }
        var envelope = EventEnvelope.From(facts, matched.Name, now, body);
        var message = EventJson.Serialize(envelope);
        if (message.Length > _options.MaxEnvelopeBytes)
        {
            // Unreachable for a body within the limit unless kilobytes of whitespace surround its object.
            return new Rejected(413, "payload_too_large", "The event would not fit a 64 KiB queue message: too much whitespace around its JSON object.");
        }
        LogAccepted(logger, envelope.EventId, envelope.EventType, envelope.JobId, envelope.RunId, matched.Name);
        return new Accepted(envelope, message);
    }

    private static readonly Rejected InvalidSignature =
        new(401, "invalid_signature", "The Authorization header is not the HMAC-SHA256 of the body with a configured webhook secret.");

    private static WebhookSecret? Match(IReadOnlyList<WebhookSecret> candidates, ReadOnlySpan<byte> body, ReadOnlySpan<byte> presented)
    {
        // Every candidate is tried (no early exit) so timing does not reveal which secret is close.
        WebhookSecret? matched = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates[i].Verifies(body, presented)) matched ??= candidates[i];
        }
        return matched;
    }

    [LoggerMessage(1001, LogLevel.Error, "No webhook secret is configured or resolvable; answering 503 so dbt Cloud retries. Configure relay.json webhooks and their secrets.")]
    private static partial void LogNoSecrets(ILogger logger);

    [LoggerMessage(1002, LogLevel.Warning, "Rejected a webhook: Authorization header {Problem}.")]
    private static partial void LogSignatureMissing(ILogger logger, string problem);

    [LoggerMessage(1003, LogLevel.Warning, "Rejected a webhook: the signature matches no configured secret (candidates by fingerprint: {Candidates}).")]
    private static partial void LogSignatureMismatch(ILogger logger, string candidates);

    [LoggerMessage(1004, LogLevel.Warning, "Rejected a webhook signed with {Webhook}: {Problem}")]
    private static partial void LogNotAnEvent(ILogger logger, string webhook, string problem);

    [LoggerMessage(1006, LogLevel.Warning, "Refused {EventId} signed with {Webhook}: its timestamp {SignedAt} is {Window} {Hours} h.")]
    private static partial void LogOutOfWindow(ILogger logger, string eventId, string webhook, DateTimeOffset signedAt, string window, long hours);

    [LoggerMessage(1101, LogLevel.Error, "Could not store accepted event {EventId}; answered 503 so dbt Cloud retries.")]
    private static partial void LogNotStored(ILogger logger, string eventId, Exception exception);

    [LoggerMessage(1005, LogLevel.Debug, "Accepted {EventId} ({EventType}) job {JobId} run {RunId} via webhook {Webhook}.")]
    private static partial void LogAccepted(ILogger logger, string eventId, string eventType, string? jobId, string? runId, string webhook);
}
