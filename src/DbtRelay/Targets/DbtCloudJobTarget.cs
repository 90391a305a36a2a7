using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Targets;

/// <summary>
/// Triggers another dbt Cloud job: <c>POST {accessUrl}/api/v2/accounts/{accountId}/jobs/{jobId}/run/</c> with
/// <c>Authorization: Token …</c>. Triggering is not idempotent, so every retry first looks for a run whose cause
/// carries this event's id and counts it delivered if one exists: a retry never starts the job twice. The run (the new
/// one, or the one the lookup found) is followed with <c>GET …/accounts/{accountId}/runs/{id}/</c>.
/// </summary>
public sealed partial class DbtCloudJobTarget(string name, TimeSpan timeout, Uri accessUrl, long accountId, long jobId, string tokenSecret, Template cause, JsonObject overrides,
    FollowSettings? follow)
    : IFollowedTarget, IRateLimitedTarget
{
    public const string TypeName = "dbt-cloud-job";

    /// <summary>dbt Cloud rate-limits an account: a 429 for one job's call holds back every call to that account.</summary>
    public string RateLimitScope => $"dbt Cloud account {accountId} at {accessUrl.Authority}";

    /// <summary>dbt Cloud refuses a cause longer than this.</summary>
    public const int MaxCauseLength = 255;

    private static readonly Uri DefaultAccessUrl = new("https://cloud.getdbt.com/");

    private readonly Uri _triggerUrl = new($"{accessUrl.AbsoluteUri.TrimEnd('/')}/api/v2/accounts/{accountId}/jobs/{jobId}/run/");
    private readonly Uri _runsUrl = new($"{accessUrl.AbsoluteUri.TrimEnd('/')}/api/v2/accounts/{accountId}/runs/?job_definition_id={jobId}&order_by=-id&limit=50");

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [tokenSecret, .. cause.SecretNames];
    public FollowSettings? Follow => follow;

    /// <summary>What <c>dbt-relay init --target dbt-cloud-job</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "dbt-cloud-job", ["accessUrl"] = "https://cloud.getdbt.com", ["accountId"] = 1, ["jobId"] = 1,
        ["token"] = "dbt-api-token", ["cause"] = "After {{data.jobName}} run {{data.runId}} ({{eventId}})",
        ["follow"] = new JsonObject { ["every"] = "30s", ["maxWait"] = "6h" },
        ["description"] = "Runs another dbt Cloud job and follows the run to its end. accessUrl: your region's access URL; accountId and jobId: from the job's URL; token: the secret name of a service token.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, .. FollowSettings.Properties, "accessUrl", "accountId", "jobId", "token", "cause",
            "gitBranch", "schemaOverride", "targetNameOverride", "threadsOverride", "stepsOverride"]);
        var accessUrl = node["accessUrl"].Exists ? node["accessUrl"].Url(required: true) : DefaultAccessUrl;
        var accountId = node["accountId"].Number(required: true, 1);
        var jobId = node["jobId"].Number(required: true, 1);
        var token = node["token"].SecretName(required: true);
        var cause = node["cause"].Exists
            ? definition.Template("cause", required: true)
            : Template.Parse("Triggered by DbtRelay after {{data.jobName}} run {{data.runId}} ({{eventId}})", node.Path, node.Problems, definition.Vars);

        var overrides = new JsonObject();
        if (node["gitBranch"].Text(required: false) is { } branch) overrides["git_branch"] = branch;
        if (node["schemaOverride"].Text(required: false) is { } schema) overrides["schema_override"] = schema;
        if (node["targetNameOverride"].Text(required: false) is { } targetName) overrides["target_name_override"] = targetName;
        if (node["threadsOverride"].Number(required: false, 1, 64) is { } threads) overrides["threads_override"] = threads;
        if (node["stepsOverride"].Exists)
        {
            var steps = node["stepsOverride"].StringList();
            if (steps.Count == 0) node["stepsOverride"].Error("must list at least one dbt command");
            else overrides["steps_override"] = new JsonArray([.. steps.Select(s => JsonValue.Create(s))]);
        }

        var follow = FollowSettings.Read(node);
        if (accessUrl is null || accountId is null || jobId is null || token is null || cause is null) return null;
        return new DbtCloudJobTarget(definition.Name, definition.Timeout, accessUrl, accountId.Value, jobId.Value, token, cause, overrides, follow);
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        // A deliberate redelivery is its own run, with its own marker, so the lookup never mistakes the first run for it.
        var eventId = call.Redelivery > 0 ? $"{call.Event.EventId}#redelivery{call.Redelivery}" : call.Event.EventId;
        if (call.Attempt > 1 || call.Resumed)
        {
            // An earlier attempt may have started the run and lost the answer (timeout, dropped connection, 502/504),
            // or a worker may have been stopped after dbt Cloud took the call.
            var earlier = await FindRunStartedForAsync(CauseMarker(eventId), eventId, call, cancellationToken).ConfigureAwait(false);
            if (earlier is not null) return earlier;
        }

        var body = (JsonObject)overrides.DeepClone();
        body["cause"] = Cause(cause.Render(call.Values, TemplateEscape.None), eventId);
        using var request = new HttpRequestMessage(HttpMethod.Post, _triggerUrl)
        {
            Content = new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var outcome = CooledDown(HttpOutcomes.Classify(response, "dbt Cloud", call.Time.GetUtcNow()));
        if (outcome is not CallAccepted) return outcome;
        var runId = await HttpOutcomes.ReadIdAsync(response, cancellationToken, "data", "id").ConfigureAwait(false);
        return new CallAccepted($"started dbt Cloud run {runId ?? "(id not returned)"}") { HttpStatus = outcome.HttpStatus, DownstreamId = runId };
    }

    /// <summary>Event ids up to this length go into the cause as they are; longer ones as <see cref="CauseMarker"/>.</summary>
    public const int MaxPlainIdInCause = 64;

    /// <summary>
    /// What the cause carries to find this event's run again: the event id itself, or for an id too long to fit
    /// beside a readable cause, its first 40 characters and a hash of the whole (still searchable by a person).
    /// </summary>
    public static string CauseMarker(string eventId) => eventId.Length <= MaxPlainIdInCause
        ? eventId
        : $"{eventId[..40]}~{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(eventId)))[..16]}";

    /// <summary>The cause always carries the event's marker (the key of the run lookup) and fits dbt's length limit.</summary>
    public static string Cause(string rendered, string eventId)
    {
        var marker = CauseMarker(eventId);
        if (rendered.Contains(marker, StringComparison.Ordinal) && rendered.Length <= MaxCauseLength) return rendered;
        var suffix = $" [{marker}]";
        var room = Math.Max(0, MaxCauseLength - suffix.Length);
        var text = rendered.Replace(eventId, "", StringComparison.Ordinal).Replace(marker, "", StringComparison.Ordinal).Trim();
        return (text.Length > room ? text[..room] : text) + suffix;
    }

    private async Task<TargetOutcome?> FindRunStartedForAsync(string marker, string eventId, TargetCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _runsUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            // Without the lookup a trigger could start the job twice: wait for dbt Cloud to answer it.
            var lookup = CooledDown(HttpOutcomes.Classify(response, "dbt Cloud (run lookup)", call.Time.GetUtcNow()));
            // The status stays on the outcome: a 429 here cools the whole account down like any other.
            return lookup is Failed ? lookup : new RetryLater($"{lookup.Detail}; not triggering until the lookup works", (lookup as RetryLater)?.After) { HttpStatus = lookup.HttpStatus };
        }
        using var json = await HttpOutcomes.ReadJsonAsync(response, cancellationToken).ConfigureAwait(false);
        if (json is null)
        {
            return new RetryLater("dbt Cloud's run list was not JSON of at most 1 MiB; not triggering until the lookup can be read");
        }
        if (json.RootElement.TryGetProperty("data", out var runs) && runs.ValueKind == JsonValueKind.Array)
        {
            foreach (var run in runs.EnumerateArray())
            {
                if (run.TryGetProperty("cause", out var runCause) && runCause.GetString()?.Contains(marker, StringComparison.Ordinal) == true)
                {
                    var id = run.TryGetProperty("id", out var runId) ? runId.ToString() : "?";
                    LogFoundEarlierRun(call.Logger, id, eventId);
                    return new CallAccepted($"dbt Cloud run {id} was already started by an earlier attempt") { DownstreamId = id };
                }
            }
        }
        return null;
    }

    public async Task<TargetOutcome> CheckAsync(TargetCall call, string runId, CancellationToken cancellationToken)
    {
        // The id came from dbt Cloud's answer: only a number goes into the URL.
        if (!long.TryParse(runId, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
        {
            return new Failed($"'{runId}' is not a dbt Cloud run id");
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"{accessUrl.AbsoluteUri.TrimEnd('/')}/api/v2/accounts/{accountId}/runs/{id}/"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", call.Secrets[tokenSecret]);
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return CooledDown(await StatusAnswer.ReadAsync(response, "dbt Cloud (run status)", call.Time.GetUtcNow(), body => ReadRun(StatusAnswer.Get(body, "data"), runId), cancellationToken)
            .ConfigureAwait(false));
    }

    /// <summary>How long dbt Cloud wants callers to wait after it rate-limited them; its 429 carries no Retry-After.</summary>
    public static readonly TimeSpan RateLimitCooldown = TimeSpan.FromMinutes(5);

    private static TargetOutcome CooledDown(TargetOutcome outcome) => outcome is RetryLater { HttpStatus: 429, After: null } limited
        ? limited with { Detail = $"{limited.Detail}; waiting dbt Cloud's 5-minute cooldown", After = RateLimitCooldown }
        : outcome;

    /// <summary>dbt Cloud run status codes: 1 queued, 2 starting, 3 running, 10 success, 20 error, 30 cancelled.</summary>
    private static DownstreamRun? ReadRun(JsonElement run, string runId)
    {
        if (StatusAnswer.Get(run, "status") is not { ValueKind: JsonValueKind.Number } status || !status.TryGetInt32(out var code)) return null;
        var state = code switch
        {
            10 => DownstreamStates.Succeeded,
            20 => DownstreamStates.Failed,
            30 => DownstreamStates.Cancelled,
            _ => DownstreamStates.Running,
        };
        return new DownstreamRun(runId, state)
        {
            VendorStatus = StatusAnswer.Text(StatusAnswer.Get(run, "status_humanized")) ?? code.ToString(System.Globalization.CultureInfo.InvariantCulture),
            StartedAt = StatusAnswer.Time(StatusAnswer.Get(run, "started_at")),
            FinishedAt = StatusAnswer.Time(StatusAnswer.Get(run, "finished_at")),
            Error = state == DownstreamStates.Succeeded ? null : StatusAnswer.ErrorText(StatusAnswer.Get(run, "status_message")),
            Url = StatusAnswer.Text(StatusAnswer.Get(run, "href")) is { } href && Uri.TryCreate(href, UriKind.Absolute, out var link) && link.Scheme == "https" ? link.AbsoluteUri : null,
        };
    }

    [LoggerMessage(4301, LogLevel.Information, "dbt Cloud run {RunId} already carries {EventId} in its cause: not triggering again.")]
    private static partial void LogFoundEarlierRun(ILogger logger, string runId, string eventId);
}
