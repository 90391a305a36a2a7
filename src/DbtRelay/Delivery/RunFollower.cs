using System.Diagnostics;
using DbtRelay.Config.Nodes;
using DbtRelay.History;
using DbtRelay.Targets;
using DbtRelay.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Delivery;

/// <summary>
/// Follows the run a delivery started until it ends: each status check is a delivery message queued with a delay
/// (nothing sleeps, so a restart loses nothing and a waiting run costs nothing). A run that succeeds, fails, is
/// cancelled, outlives maxWait or cannot be read is recorded once, counted once, and — unless it succeeded — its
/// target's <c>onFailure</c> targets are called, each once (its own ledger entry).
/// </summary>
public sealed partial class RunFollower(IRelayQueues queues, TargetCaller caller, TargetCoalescer coalescer, DeliveryHistory history, IOptions<RetryOptions> retryOptions, TimeProvider time,
    ILogger<RunFollower> logger)
{
    /// <summary>A downstream id longer than this is not followed (it travels in ledger keys, messages and URLs).</summary>
    public const int MaxRunIdLength = 200;

    private readonly int _maxStatusFailures = retryOptions.Value.MaxStatusFailures;

    /// <summary>An id that stays one path segment in a status URL: short, no control characters, not <c>.</c> or <c>..</c>.</summary>
    public static bool CanFollow(string? runId) => runId is { Length: > 0 and <= MaxRunIdLength } and not ("." or "..") && !runId.Any(char.IsControl);

    /// <summary>Queues the first check of the run <paramref name="runId"/> that <paramref name="delivery"/> started.</summary>
    public async Task<RunRecord> StartAsync(DeliveryMessage delivery, FollowSettings follow, string runId, CancellationToken cancellationToken)
    {
        var first = delivery with
        {
            Attempt = 1,
            LastReason = null,
            Follow = new FollowCheck(runId, 1, time.GetUtcNow()),
            TraceParent = Activity.Current?.Id ?? delivery.TraceParent,
        };
        await queues.EnqueueDeliveryAsync(first, follow.Every, cancellationToken).ConfigureAwait(false);
        LogFollowing(logger, delivery.Event.EventId, delivery.Target, runId, (long)follow.Every.TotalSeconds, ConfigNode.Format(follow.MaxWait));
        return new RunRecord(runId, DownstreamStates.Running);
    }

    /// <summary>One status check; the caller holds the check's ledger claim and completes it afterwards.</summary>
    public async Task CheckAsync(DeliveryMessage delivery, IDeliveryTarget target, CancellationToken cancellationToken)
    {
        var check = delivery.Follow!;
        using var activity = RelayTelemetry.StartFrom($"dbt-relay follow {delivery.Target}", delivery.TraceParent)
            ?.SetTag(TelemetryTags.EventId, delivery.Event.EventId).SetTag(TelemetryTags.Target, delivery.Target).SetTag(TelemetryTags.TargetType, target.Type)
            .SetTag(TelemetryTags.DownstreamId, check.RunId).SetTag(TelemetryTags.FollowCheck, check.Check);
        if (target is not IFollowedTarget { Follow: { } settings } followed)
        {
            await FinishAsync(delivery, target, null, new DownstreamRun(check.RunId, DownstreamStates.Unknown),
                "relay.json no longer follows this target's runs", cancellationToken).ConfigureAwait(false);
            return;
        }

        var outcome = await caller.CheckAsync(followed, delivery, check.RunId, cancellationToken).ConfigureAwait(false);
        // The check is made: what it found is written even when the host is shutting down meanwhile.
        cancellationToken = CancellationToken.None;
        var waited = time.GetUtcNow() - check.Since;
        activity?.SetTag("http.response.status_code", outcome.HttpStatus);

        if (outcome is RunReport { Run: var run })
        {
            await ReportedAsync(delivery, target, settings, run, waited, cancellationToken).ConfigureAwait(false);
            return;
        }
        await NotReportedAsync(delivery, target, settings, outcome, waited, cancellationToken).ConfigureAwait(false);
        activity?.SetStatus(ActivityStatusCode.Error, DeadLetter.Capped(outcome.Detail));
    }

    /// <summary>The status API told how the run stands: it ended, it outlived maxWait, or it is checked again later.</summary>
    private async Task ReportedAsync(DeliveryMessage delivery, IDeliveryTarget target, FollowSettings settings, DownstreamRun run, TimeSpan waited,
        CancellationToken cancellationToken)
    {
        var check = delivery.Follow!;
        if (DownstreamStates.IsTerminal(run.State))
        {
            await FinishAsync(delivery, target, settings, run, null, cancellationToken).ConfigureAwait(false);
        }
        else if (waited >= settings.MaxWait)
        {
            await FinishAsync(delivery, target, settings, run with { State = DownstreamStates.TimedOut },
                $"still {run.VendorStatus ?? run.State} after {ConfigNode.Format(settings.MaxWait)} (maxWait)", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var next = delivery with { Follow = check with { Check = check.Check + 1, StatusFailures = 0, LastFailure = null } };
            await queues.EnqueueDeliveryAsync(next, settings.Every, cancellationToken).ConfigureAwait(false);
            await history.RecordRunAsync(delivery.Event, delivery.Target, target.Type, Record(run, check, null), delivery.Redelivery, cancellationToken,
                await coalescer.CoveredAsync(delivery, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
            LogStillRunning(logger, delivery.Event.EventId, delivery.Target, check.RunId, run.VendorStatus, check.Check);
        }
    }

    /// <summary>
    /// The status API did not answer usefully: back off, and after too many failures (or a refusal) stop and say so.
    /// A 404 is not a refusal: a run can take a moment to be visible after its trigger.
    /// </summary>
    private async Task NotReportedAsync(DeliveryMessage delivery, IDeliveryTarget target, FollowSettings settings, TargetOutcome outcome, TimeSpan waited,
        CancellationToken cancellationToken)
    {
        var check = delivery.Follow!;
        var failures = check.StatusFailures + 1;
        var refused = outcome is Failed { HttpStatus: not 404 };
        if (refused || failures >= _maxStatusFailures || waited >= settings.MaxWait)
        {
            var why = refused ? "the status API refused the check" : $"the status API failed {failures} checks in a row";
            await FinishAsync(delivery, target, settings, new DownstreamRun(check.RunId, DownstreamStates.Unknown), $"{why}; last: {outcome.Detail}", cancellationToken)
                .ConfigureAwait(false);
            return;
        }
        var backoff = TimeSpan.FromTicks(Math.Min(settings.Every.Ticks << Math.Min(failures - 1, 3), Math.Max(settings.Every.Ticks, TimeSpan.FromMinutes(10).Ticks)));
        if ((outcome as RetryLater)?.After is { } after && after > backoff) backoff = after < TimeSpan.FromMinutes(10) ? after : TimeSpan.FromMinutes(10);
        var retry = delivery with { Follow = check with { Check = check.Check + 1, StatusFailures = failures, LastFailure = DeadLetter.Capped(outcome.Detail) } };
        await queues.EnqueueDeliveryAsync(retry, backoff, cancellationToken).ConfigureAwait(false);
        await history.RecordRunAsync(delivery.Event, delivery.Target, target.Type,
            Record(new DownstreamRun(check.RunId, DownstreamStates.Running), check, $"status check {failures} of at most {_maxStatusFailures} failed: {outcome.Detail}"),
            delivery.Redelivery, cancellationToken, await coalescer.CoveredAsync(delivery, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        LogStatusFailed(logger, delivery.Event.EventId, delivery.Target, check.RunId, outcome.Detail, (long)backoff.TotalSeconds);
    }

    /// <summary>A check whose handling kept failing (a host gave up on its message): the run's end cannot be known.</summary>
    public Task GiveUpAsync(DeliveryMessage delivery, IDeliveryTarget? target, string reason, CancellationToken cancellationToken) =>
        FinishAsync(delivery, target, (target as IFollowedTarget)?.Follow, new DownstreamRun(delivery.Follow!.RunId, DownstreamStates.Unknown),
            $"handling its status check failed: {reason}", cancellationToken);

    private async Task FinishAsync(DeliveryMessage delivery, IDeliveryTarget? target, FollowSettings? settings, DownstreamRun run, string? detail, CancellationToken cancellationToken)
    {
        var check = delivery.Follow!;
        var record = Record(run, check, detail);
        var failed = run.State != DownstreamStates.Succeeded;
        // Notices are queued before the check's claim is completed, so a crash in between repeats the check and its
        // notices, and each notice's own ledger entry keeps its call to one.
        if (failed && settings is not null && delivery.Notice is null)
        {
            var notice = new DownstreamNotice(delivery.Target, run.Id, run.State) { Error = run.Error ?? detail, Url = run.Url };
            foreach (var name in settings.OnFailure)
            {
                var call = new DeliveryMessage
                {
                    Target = name,
                    Attempt = 1,
                    FirstQueuedAt = time.GetUtcNow(),
                    Event = delivery.Event,
                    TraceParent = Activity.Current?.Id ?? delivery.TraceParent,
                    Notice = notice,
                };
                await queues.EnqueueDeliveryAsync(call, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
        }
        await history.RecordRunAsync(delivery.Event, delivery.Target, target?.Type, record, delivery.Redelivery, cancellationToken,
            await coalescer.CoveredAsync(delivery, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);

        var tags = new TagList
        {
            { "target", delivery.Target },
            { "target_type", target?.Type ?? "unknown" },
            { "result", run.State.Replace(' ', '_') },
        };
        RelayTelemetry.DownstreamRuns.Add(1, tags);
        if (record.DurationMs is { } ms) RelayTelemetry.DownstreamRunDuration.Record(ms / 1000.0, tags);
        Activity.Current?.SetTag(TelemetryTags.DownstreamState, run.State);
        if (failed) Activity.Current?.SetStatus(ActivityStatusCode.Error, $"downstream run {run.State}");

        var summary = $"{run.VendorStatus ?? run.State}{(run.Error ?? detail) switch { null => "", var why => ": " + why }}";
        switch (run.State)
        {
            case DownstreamStates.Succeeded:
                LogSucceeded(logger, delivery.Event.EventId, delivery.Event.RunId, delivery.Target, run.Id, record.DurationMs, Counts(run));
                break;
            case DownstreamStates.Failed or DownstreamStates.TimedOut:
                LogFailed(logger, delivery.Event.EventId, delivery.Event.RunId, delivery.Target, run.Id, run.State, summary, settings?.OnFailure.Count ?? 0);
                break;
            default:
                LogEndedUnsure(logger, delivery.Event.EventId, delivery.Event.RunId, delivery.Target, run.Id, run.State, summary, settings?.OnFailure.Count ?? 0);
                break;
        }
    }

    private RunRecord Record(DownstreamRun run, FollowCheck check, string? detail)
    {
        var now = time.GetUtcNow();
        var terminal = DownstreamStates.IsTerminal(run.State);
        var started = run.StartedAt ?? check.Since;
        var finished = run.FinishedAt ?? (terminal ? now : null);
        return new RunRecord(run.Id, run.State)
        {
            VendorStatus = run.VendorStatus,
            StartedAt = run.StartedAt,
            FinishedAt = run.FinishedAt,
            DurationMs = finished is { } end && end >= started ? (long)(end - started).TotalMilliseconds : null,
            Counts = run.Counts,
            Error = run.Error,
            Url = run.Url,
            Checks = check.Check,
            CheckedAt = now,
            Detail = detail is null ? null : DeadLetter.Capped(detail),
        };
    }

    private static string Counts(DownstreamRun run) =>
        run.Counts is { Count: > 0 } counts ? string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")) : "no counts";

    [LoggerMessage(3101, LogLevel.Information, "Following {Target}'s run {DownstreamId} for {EventId}: a status check every {EverySeconds} s for at most {MaxWait}.")]
    private static partial void LogFollowing(ILogger logger, string eventId, string target, string downstreamId, long everySeconds, string maxWait);

    [LoggerMessage(3102, LogLevel.Debug, "{Target}'s run {DownstreamId} for {EventId} is still {VendorStatus} after check {Check}.")]
    private static partial void LogStillRunning(ILogger logger, string eventId, string target, string downstreamId, string? vendorStatus, int check);

    [LoggerMessage(3103, LogLevel.Warning, "Could not check {Target}'s run {DownstreamId} for {EventId}: {Reason}. Checking again in {DelaySeconds} s.")]
    private static partial void LogStatusFailed(ILogger logger, string eventId, string target, string downstreamId, string reason, long delaySeconds);

    [LoggerMessage(3104, LogLevel.Information, "{Target}'s run {DownstreamId} for {EventId} (dbt run {RunId}) succeeded in {DurationMs} ms ({Counts}).")]
    private static partial void LogSucceeded(ILogger logger, string eventId, string? runId, string target, string downstreamId, long? durationMs, string counts);

    [LoggerMessage(3105, LogLevel.Error, "{Target}'s run {DownstreamId} for {EventId} (dbt run {RunId}) {State}: {Summary}. Notifying {OnFailureCount} onFailure target(s).")]
    private static partial void LogFailed(ILogger logger, string eventId, string? runId, string target, string downstreamId, string state, string summary, int onFailureCount);

    [LoggerMessage(3106, LogLevel.Warning, "{Target}'s run {DownstreamId} for {EventId} (dbt run {RunId}) ended {State}: {Summary}. Notifying {OnFailureCount} onFailure target(s).")]
    private static partial void LogEndedUnsure(ILogger logger, string eventId, string? runId, string target, string downstreamId, string state, string summary, int onFailureCount);
}
