using System.CommandLine;
using Azure.Identity;
using Azure.Security.KeyVault.Secrets;
using DbtRelay.Cli.Clients;
using DbtRelay.Secrets;

namespace DbtRelay.Cli.Commands;

/// <summary>
/// <c>dbt-relay webhooks create | list | test | delete</c>: dbt Cloud webhook subscriptions from the command line. The
/// signing secret dbt returns on create goes straight to Key Vault or a file, never to the terminal or a log.
/// </summary>
internal static class WebhooksCommand
{
    public const string TokenVariable = "DBT_CLOUD_API_TOKEN";

    private static readonly Dictionary<string, string> EventTypes = new(StringComparer.Ordinal)
    {
        ["started"] = "job.run.started", ["completed"] = "job.run.completed", ["errored"] = "job.run.errored",
    };

    public static Command Create(TextWriter output, TextWriter error)
    {
        var accessUrl = RelayCli.UrlOption("--access-url", "Your dbt Cloud access URL, e.g. https://cloud.getdbt.com or https://ab123.us1.dbt.com.", required: true);
        var accountId = new Option<long>("--account-id") { Description = "dbt Cloud account id (in your account's URLs).", Required = true };
        var command = new Command("webhooks", $"Manage dbt Cloud webhook subscriptions (API v3; token from {TokenVariable}).");
        command.Subcommands.Add(CreateCommand(accessUrl, accountId, output, error));
        command.Subcommands.Add(Simple("list", "List the account's webhook subscriptions.", accessUrl, accountId, null, output, error,
            async (api, _, ct) =>
            {
                var subscriptions = await api.ListAsync(ct);
                foreach (var s in subscriptions)
                {
                    var last = s.DispatchedAt is null ? "no delivery yet" : $"last delivery {s.DispatchedAt}: HTTP {s.HttpStatusCode ?? "?"}";
                    output.WriteLine($"{s.Id}  {s.Name}  {(s.Active ? "active" : "inactive")}  {string.Join(",", s.EventTypes)}  jobs [{string.Join(",", s.JobIds)}]  → {s.ClientUrl}  ({last})");
                }
                foreach (var s in subscriptions.Where(s => !s.Active))
                {
                    // dbt turns a subscription off after 5 failed deliveries in a row, and tells nobody.
                    error.WriteLine($"warning: {s.Id} ({s.Name}) is inactive: dbt Cloud deactivates a subscription after 5 failed deliveries in a row"
                        + $"{(s.HttpStatusCode is { } code ? $" (its last answer was HTTP {code})" : "")}; no event reaches {s.ClientUrl} until it is turned on again in dbt Cloud (Account settings → Webhooks).");
                }
            }));
        command.Subcommands.Add(DoctorCommand(accessUrl, accountId, output, error));
        var id = new Argument<string>("id") { Description = "The subscription id (dbt-relay webhooks list)." };
        command.Subcommands.Add(Simple("test", "Ask dbt Cloud to send a test event to a subscription.", accessUrl, accountId, id, output, error,
            async (api, parse, ct) => output.WriteLine(await api.TestAsync(parse.GetValue(id)!, ct))));
        command.Subcommands.Add(Simple("delete", "Delete a subscription.", accessUrl, accountId, id, output, error,
            async (api, parse, ct) =>
            {
                await api.DeleteAsync(parse.GetValue(id)!, ct);
                output.WriteLine($"Deleted subscription {parse.GetValue(id)}.");
            }));
        return command;
    }

    private static Command CreateCommand(Option<Uri?> accessUrl, Option<long> accountId, TextWriter output, TextWriter error)
    {
        var name = new Option<string>("--name") { Description = "Subscription name in dbt Cloud.", Required = true };
        var endpoint = RelayCli.UrlOption("--endpoint", "The relay's webhook URL, e.g. https://<app>.azurewebsites.net/api/dbt/webhook.", required: true);
        var events = new Option<string[]>("--event") { Description = "started, completed, errored (repeat; default completed).", AllowMultipleArgumentsPerToken = true };
        events.AcceptOnlyFromAmong([.. EventTypes.Keys]);
        var jobs = new Option<long[]>("--job") { Description = "Only these job ids (repeat; default all jobs).", AllowMultipleArgumentsPerToken = true };
        var keyVault = RelayCli.UrlOption("--key-vault", "Store the signing secret in this Key Vault (your Azure identity).");
        var secretName = new Option<string?>("--secret-name") { Description = "Name of the stored secret (default dbt-webhook-<name>), as relay.json's webhooks[].secret." };
        var secretOut = new Option<FileInfo?>("--secret-out") { Description = "Write the signing secret to this file (mode 600) instead of Key Vault." };
        var update = new Option<bool>("--update") { Description = "If a subscription for --endpoint exists, update it instead of reporting it." };
        var create = new Command("create", "Create a subscription for the relay and store its signing secret; idempotent per endpoint.")
        {
            accessUrl, accountId, name, endpoint, events, jobs, keyVault, secretName, secretOut, update,
        };
        create.Validators.Add(result =>
        {
            if ((result.GetResult(keyVault) is null) == (result.GetResult(secretOut) is null))
            {
                result.AddError("Say where the signing secret goes: --key-vault URI (with --secret-name) or --secret-out FILE, one of them.");
            }
        });
        create.SetAction(async (parse, cancellationToken) => await RunAsync(parse, accessUrl, accountId, error, async (api, ct) =>
        {
            var eventTypes = (parse.GetValue(events) is { Length: > 0 } chosen ? chosen : ["completed"]).Select(e => EventTypes[e]).Distinct().ToList();
            var jobIds = parse.GetValue(jobs) ?? [];
            var target = parse.GetValue(endpoint)!;
            var subscriptionName = parse.GetValue(name)!;
            var storedAs = parse.GetValue(secretName) ?? $"dbt-webhook-{Slug(subscriptionName)}";
            if (!SecretNames.IsValid(storedAs))
            {
                error.WriteLine($"--secret-name {storedAs}: secret names use {SecretNames.Rule}.");
                return 2;
            }
            // The secret file is created (empty, mode 600) before anything is created at dbt Cloud: dbt shows the signing
            // secret once, and a file that cannot be written must stop the command while nothing depends on it.
            FileStream? secretFile = null;
            if (parse.GetValue(secretOut) is { } file)
            {
                try
                {
                    secretFile = OpenSecretFile(file);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"--secret-out {file.FullName}: {ex.Message.Split('\n')[0]} Nothing created; choose a new file in a folder that exists (dbt Cloud shows the signing secret only once).");
                    return 2;
                }
            }
            await using var _ = secretFile;
            var existing = (await api.ListAsync(ct)).FirstOrDefault(s => string.Equals(s.ClientUrl.TrimEnd('/'), target.ToString().TrimEnd('/'), StringComparison.OrdinalIgnoreCase));
            if (existing is not null && secretFile is not null)
            {
                // Nothing to store: the file created above would only be an empty decoy.
                secretFile.Close();
                File.Delete(secretFile.Name);
            }
            if (existing is not null && !parse.GetValue(update))
            {
                output.WriteLine($"A subscription for {target} exists already: {existing.Id} ({existing.Name}); nothing created. --update changes it.");
                return 0;
            }
            if (existing is not null)
            {
                var updated = await api.UpdateAsync(existing.Id, subscriptionName, target, eventTypes, jobIds, ct);
                output.WriteLine($"Updated subscription {updated.Id} ({string.Join(", ", updated.EventTypes)}); its signing secret is unchanged.");
                return 0;
            }
            var (created, secret) = await api.CreateAsync(subscriptionName, target, eventTypes, jobIds, ct);
            string where;
            try
            {
                where = secretFile is not null
                    ? await WriteSecretFileAsync(secretFile, secret, ct)
                    : await StoreInKeyVaultAsync(parse.GetValue(keyVault)!, storedAs, secret, ct);
            }
            catch (Exception ex) when (ex is Azure.RequestFailedException or AuthenticationFailedException or CredentialUnavailableException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"Created subscription {created.Id}, but could not store its signing secret: {ex.Message.Split('\n')[0]}");
                error.WriteLine($"dbt Cloud shows that secret only once: delete the subscription (dbt-relay webhooks delete {created.Id}) and create it again once the store works.");
                return 2;
            }
            output.WriteLine($"Created subscription {created.Id} ({string.Join(", ", created.EventTypes)} → {created.ClientUrl}); signing secret stored {where}.");
            output.WriteLine("Add this to relay.json's \"webhooks\":");
            output.WriteLine($$"""  { "name": "{{Slug(subscriptionName)}}", "secret": "{{storedAs}}" }""");
            return 0;
        }, cancellationToken));
        return create;
    }

    /// <summary>
    /// Is dbt Cloud still sending this relay its events? A subscription for the endpoint must exist, be active (dbt turns
    /// one off after 5 failed deliveries in a row) and, if it delivered anything, have got a 2xx the last time.
    /// </summary>
    private static Command DoctorCommand(Option<Uri?> accessUrl, Option<long> accountId, TextWriter output, TextWriter error)
    {
        var endpoint = RelayCli.UrlOption("--endpoint", "The relay's webhook URL, as the subscription names it.", required: true);
        var doctor = new Command("doctor", "Check that a subscription for --endpoint exists, is active and got a 2xx on its last delivery (exit 2 if not).")
        {
            accessUrl, accountId, endpoint,
        };
        doctor.SetAction(async (parse, cancellationToken) => await RunAsync(parse, accessUrl, accountId, error, async (api, ct) =>
        {
            var target = parse.GetValue(endpoint)!.ToString().TrimEnd('/');
            var mine = (await api.ListAsync(ct)).Where(s => string.Equals(s.ClientUrl.TrimEnd('/'), target, StringComparison.OrdinalIgnoreCase)).ToList();
            if (mine.Count == 0)
            {
                error.WriteLine($"error: no subscription sends to {target}: dbt Cloud sends this relay nothing (dbt-relay webhooks create).");
                return 2;
            }
            var healthy = true;
            foreach (var s in mine)
            {
                var delivered = s.HttpStatusCode is { Length: 3 } code && code[0] == '2';
                if (!s.Active)
                {
                    healthy = false;
                    error.WriteLine($"error: {s.Id} ({s.Name}) is inactive: dbt Cloud turned it off (5 failed deliveries in a row{(s.HttpStatusCode is { } last ? $", the last answered HTTP {last}" : "")}). "
                        + "Fix the relay, then turn the subscription on in dbt Cloud (Account settings → Webhooks); events sent meanwhile are not resent.");
                }
                else if (s.DispatchedAt is not null && !delivered)
                {
                    healthy = false;
                    error.WriteLine($"error: {s.Id} ({s.Name}) is active, but its last delivery ({s.DispatchedAt}) got HTTP {s.HttpStatusCode ?? "no answer"}: "
                        + "dbt retries it, and turns the subscription off after 5 failures in a row.");
                }
                else
                {
                    output.WriteLine($"ok: {s.Id} ({s.Name}) is active; {(s.DispatchedAt is null ? "no delivery yet (dbt-relay webhooks test " + s.Id + " sends one)" : $"last delivery {s.DispatchedAt} got HTTP {s.HttpStatusCode}")}.");
                }
            }
            return healthy ? 0 : 2;
        }, cancellationToken));
        return doctor;
    }

    private static Command Simple(string name, string description, Option<Uri?> accessUrl, Option<long> accountId, Argument<string>? id,
        TextWriter output, TextWriter error, Func<DbtCloudWebhookSubscriptions, ParseResult, CancellationToken, Task> action)
    {
        var command = new Command(name, description) { accessUrl, accountId };
        if (id is not null) command.Arguments.Add(id);
        command.SetAction(async (parse, cancellationToken) => await RunAsync(parse, accessUrl, accountId, error, async (api, ct) =>
        {
            await action(api, parse, ct);
            return 0;
        }, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Option<Uri?> accessUrl, Option<long> accountId, TextWriter error,
        Func<DbtCloudWebhookSubscriptions, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        var token = Environment.GetEnvironmentVariable(TokenVariable);
        if (string.IsNullOrWhiteSpace(token))
        {
            error.WriteLine($"Set {TokenVariable} to a dbt Cloud service token with webhook permissions (it is read from the environment so it stays out of your shell history).");
            return 2;
        }
        var url = parse.GetValue(accessUrl)!;
        if (!RelayCli.MayCarryCredentials(url))
        {
            error.WriteLine($"Not sending the dbt Cloud token to {DbtRelay.Telemetry.UrlOrigin.Of(url)} over plain http: --access-url takes your account's https access URL.");
            return 2;
        }
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.UserAgent.ParseAdd(RelayServiceCollectionExtensions.UserAgent);
        var root = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
        try
        {
            return await action(new DbtCloudWebhookSubscriptions(http, root, parse.GetValue(accountId), token), cancellationToken);
        }
        catch (DbtCloudApiException ex)
        {
            error.WriteLine(ex.Message);
            return 2;
        }
        catch (Exception ex) when (ex is Azure.RequestFailedException or AuthenticationFailedException or CredentialUnavailableException or IOException or UnauthorizedAccessException)
        {
            // The subscription exists but its secret could not be stored: say so, since dbt shows the secret only once.
            error.WriteLine($"Could not store the signing secret: {ex.Message.Split('\n')[0]}");
            error.WriteLine("Delete the subscription (dbt-relay webhooks delete ID) and create it again once the store works.");
            return 2;
        }
    }

    /// <summary>A new file only this user can read; never an existing one.</summary>
    private static FileStream OpenSecretFile(FileInfo file)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        return new FileStream(file.FullName, options);
    }

    private static async Task<string> WriteSecretFileAsync(FileStream stream, string secret, CancellationToken cancellationToken)
    {
        await using (var writer = new StreamWriter(stream, leaveOpen: true))
        {
            await writer.WriteAsync(secret.AsMemory(), cancellationToken);
        }
        await stream.FlushAsync(cancellationToken);
        return $"in {stream.Name} (mode 600)";
    }

    private static async Task<string> StoreInKeyVaultAsync(Uri vault, string name, string secret, CancellationToken cancellationToken)
    {
        var client = new SecretClient(vault, new DefaultAzureCredential());
        await client.SetSecretAsync(name, secret, cancellationToken);
        return $"in Key Vault {vault.Host} as {name}";
    }

    private static string Slug(string name) =>
        new string([.. name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]).Trim('-') is { Length: > 0 } slug ? slug : "webhook";
}
