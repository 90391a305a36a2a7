using System.CommandLine;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using DbtRelay.Config;
using DbtRelay.Events;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay send</c>: a realistic dbt Cloud webhook, signed exactly as dbt signs it.</summary>
internal static class SendCommand
{
    public const string DefaultSecretName = "dbt-webhook-demo";

    public static Command Create(TextWriter output, TextWriter error)
    {
        var kind = new Option<string>("--event", "-e")
        {
            Description = "Which run event to simulate.",
            DefaultValueFactory = _ => "succeeded",
        };
        kind.AcceptOnlyFromAmong("started", "succeeded", "failed", "errored", "cancelled");
        var job = new Option<string>("--job", "-j") { Description = "dbt Cloud job id in the payload.", DefaultValueFactory = _ => "123" };
        var url = RelayCli.UrlOption("--url", "Webhook endpoint (dbt-relay serve, func start, or the deployed app).", aliases: "-u");
        url.DefaultValueFactory = _ => new Uri(RelayCli.DefaultUrl + RelayCli.WebhookPath);
        var secretName = new Option<string?>("--secret-name", "-s")
        {
            Description = $"Secret to sign with, by name (Secrets__<name>); default: the first webhook's secret in relay.json, else {DefaultSecretName}.",
        };
        var file = new Option<FileInfo?>("--file", "-f") { Description = "Send this payload file as is instead of a generated one." };
        var print = new Option<bool>("--print")
        {
            Description = "Write the signed payload and its Authorization header instead of sending (e.g. for `check --event` or curl).",
        };
        var config = RelayCli.ConfigOption();

        var command = new Command("send", "Sign and post a dbt Cloud webhook event, as dbt Cloud would.") { kind, job, url, secretName, file, print, config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(secretName) ?? DefaultSecret(RelayCli.ResolveConfigPath(parse.GetValue(config)));
            var store = new ConfigurationSecretStore(RelayCli.Configuration());
            var secret = await store.GetAsync(name, cancellationToken);
            if (secret is null)
            {
                error.WriteLine($"Secret '{name}' is not set: set {store.Describe(name)}.");
                return 2;
            }
            var body = parse.GetValue(file) is { } payload
                ? await RelayCli.ReadUserFileAsync(payload, "the payload", error, cancellationToken)
                : Encoding.UTF8.GetBytes(Payload(parse.GetValue(kind)!, parse.GetValue(job)!, TimeProvider.System.GetUtcNow()));
            if (body is null) return 2;
            if (parse.GetValue(print))
            {
                // The payload on stdout (ready for `> payload.json`), the header on stderr.
                await output.WriteAsync(Encoding.UTF8.GetString(body)); // no newline: the bytes that were signed
                await error.WriteLineAsync($"Authorization: {WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), body)}");
                return 0;
            }
            return await PostAsync(WebhookUrl(parse.GetValue(url)!), body, name, secret, output, error, cancellationToken);
        });
        return command;
    }

    /// <summary>The first webhook's secret in relay.json, else the demo secret (what serve's demo accepts).</summary>
    private static string DefaultSecret(string? configPath)
    {
        if (configPath is null) return DefaultSecretName;
        try
        {
            var webhooks = RelayConfigLoader.LoadFile(configPath).Webhooks;
            return webhooks.Count > 0 ? webhooks[0].Secret : DefaultSecretName;
        }
        catch (RelayConfigException)
        {
            return DefaultSecretName;
        }
    }

    /// <summary>A base URL (as <c>events --url</c> takes, or a Function App's) means its webhook.</summary>
    public static Uri WebhookUrl(Uri url) =>
        url.AbsolutePath is "" or "/" ? new Uri(url, RelayCli.WebhookPath) : url;

    private static async Task<int> PostAsync(Uri url, byte[] body, string secretName, string secret, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        http.DefaultRequestHeaders.UserAgent.ParseAdd(RelayServiceCollectionExtensions.UserAgent);
        using var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), body));
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            output.WriteLine($"{(int)response.StatusCode} {response.ReasonPhrase}");
            output.WriteLine(await response.Content.ReadAsStringAsync(cancellationToken));
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                // The relay logs its candidates' fingerprints on a mismatch: these two lines are comparable.
                error.WriteLine($"Signed with secret {secretName} (fingerprint {WebhookSignature.Fingerprint(Encoding.UTF8.GetBytes(secret))}); " +
                    "the relay's log lists the fingerprints of the secrets it accepts (serve's banner too). Set the same secret on both sides.");
            }
            if (response.StatusCode == System.Net.HttpStatusCode.NotFound && url.AbsolutePath != RelayCli.WebhookPath)
            {
                error.WriteLine($"Nothing answers POST {url.AbsolutePath} there: the relay's webhook is {new Uri(url, RelayCli.WebhookPath)} (or pass the base URL).");
            }
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (HttpRequestException ex)
        {
            error.WriteLine($"Could not reach {url}: {ex.Message}");
            return 1;
        }
    }

    /// <summary>A payload with every field dbt Cloud documents, for the requested outcome.</summary>
    public static string Payload(string kind, string jobId, DateTimeOffset now)
    {
        var (eventType, status, code) = kind switch
        {
            "started" => ("job.run.started", "Running", DbtRunStatus.Running),
            "failed" => ("job.run.completed", "Errored", DbtRunStatus.Error),
            "errored" => ("job.run.errored", "Errored", DbtRunStatus.Error),
            "cancelled" => ("job.run.completed", "Cancelled", DbtRunStatus.Cancelled),
            _ => ("job.run.completed", "Success", DbtRunStatus.Success),
        };
        var runId = now.ToUnixTimeMilliseconds() % 100_000_000;
        var data = new JsonObject
        {
            ["jobId"] = jobId,
            ["jobName"] = "Daily job (dbt build)",
            ["runId"] = runId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["environmentId"] = "456",
            ["environmentName"] = "Production",
            ["dbtVersion"] = "1.9.0",
            ["projectName"] = "Analytics",
            ["projectId"] = "789",
            ["runStatus"] = status,
            ["runStatusCode"] = code,
            ["runStatusMessage"] = code == DbtRunStatus.Error ? "Database Error in model orders" : "None",
            ["runReason"] = "Triggered by dbt-relay send",
            ["runStartedAt"] = now.AddMinutes(-3).ToString("O"),
        };
        if (code == DbtRunStatus.Error) data["runErroredAt"] = now.ToString("O");
        else if (code != DbtRunStatus.Running) data["runFinishedAt"] = now.ToString("O");
        return new JsonObject
        {
            ["accountId"] = 1,
            ["webhookId"] = "wsu_dbtrelaysend",
            ["eventId"] = "wev_" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..27],
            ["timestamp"] = now.ToString("O"),
            ["eventType"] = eventType,
            ["webhookName"] = "dbt-relay send",
            ["data"] = data,
        }.ToJsonString(RelayCli.HumanJson);
    }
}
