using System.CommandLine;
using System.Text.Json.Nodes;
using DbtRelay.Cli.Serve;
using DbtRelay.Config;
using DbtRelay.Targets;

namespace DbtRelay.Cli.Commands;

/// <summary>
/// <c>dbt-relay init</c>: writes a starter relay.json here (never over an existing one) with a route to each target
/// type asked for, or to serve's demo sink, and says which secrets to set and how.
/// </summary>
internal static class InitCommand
{

    /// <summary>The target types <c>init --target</c> can start with.</summary>
    internal static IEnumerable<string> StarterTypes => TargetTypes.Starters.Keys;

    public static Command Create(TextWriter output, TextWriter error)
    {
        var targets = new Option<string[]>("--target", "-t")
        {
            Description = $"A target type to start with ({string.Join(", ", TargetTypes.Starters.Keys)}); repeat for several. Default: serve's demo sink.",
            AllowMultipleArgumentsPerToken = true,
        };
        targets.AcceptOnlyFromAmong([.. TargetTypes.Starters.Keys]);
        var command = new Command("init", "Write a starter relay.json in the current folder and list the secrets it needs.") { targets };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = Path.Combine(Environment.CurrentDirectory, "relay.json");
            if (File.Exists(path))
            {
                error.WriteLine($"{path} already exists; init never overwrites it. Check it with `dbt-relay check`.");
                return 2;
            }
            var json = Starter(parse.GetValue(targets) ?? []);
            var config = RelayConfigLoader.Load(json, "the starter relay.json"); // what check will say, before writing
            try
            {
                await File.WriteAllTextAsync(path, json, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"Cannot write {path}: {ex.Message}");
                return 2;
            }
            output.WriteLine($"Wrote {path}: {config.Targets.Count} target(s), {config.Routes.Count} route(s). Edit the placeholders, then `dbt-relay check`.");
            output.WriteLine("Secrets it needs (by name; never put a secret itself in relay.json):");
            foreach (var (secret, usedBy) in config.SecretReferences.Distinct())
            {
                // Shells refuse dashes in variable names; the store reads Secrets__a_b for secret a-b.
                output.WriteLine($"  {secret} ({usedBy}): export Secrets__{secret.Replace('-', '_')}=...   or in Azure: az keyvault secret set --vault-name <vault> --name {secret} --value ...");
            }
            output.WriteLine("Then: dbt-relay serve, and dbt-relay send in another terminal.");
            return 0;
        });
        return command;
    }

    /// <summary>The starter relay.json for <paramref name="types"/> (serve's demo sink when none).</summary>
    internal static string Starter(string[] types)
    {
        var targets = new JsonObject();
        if (types.Length == 0)
        {
            targets["demo-sink"] = new JsonObject
            {
                ["type"] = "http", ["method"] = "POST", ["url"] = RelayCli.DefaultUrl + DemoRelay.SinkPath,
                ["body"] = new JsonObject { ["eventId"] = "{{eventId}}", ["jobId"] = "{{data.jobId}}", ["runStatus"] = "{{data.runStatus}}" },
                ["description"] = "serve's own demo sink: it logs what it receives. Replace with your real targets (dbt-relay init --help lists the types).",
            };
        }
        foreach (var type in types.Distinct(StringComparer.Ordinal)) targets[type] = TargetTypes.Starters[type]();
        var root = new JsonObject
        {
            ["webhooks"] = new JsonArray(new JsonObject
            {
                ["name"] = "prod", ["secret"] = "dbt-webhook-prod",
                ["description"] = "One entry per dbt Cloud webhook subscription: secret is the name under which its signing secret is stored.",
            }),
            ["targets"] = targets,
            ["routes"] = new JsonArray(new JsonObject
            {
                ["name"] = "after-success",
                ["when"] = new JsonObject { ["runStatus"] = new JsonArray("Success") },
                ["targets"] = new JsonArray([.. targets.Select(t => (JsonNode)JsonValue.Create(t.Key)!)]),
                ["description"] = "Fires when a run completes successfully; narrow it with jobIds, environmentIds or projectIds.",
            }),
        };
        return root.ToJsonString(RelayCli.HumanJson) + Environment.NewLine;
    }
}
