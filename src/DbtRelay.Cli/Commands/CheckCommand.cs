using System.CommandLine;
using DbtRelay.Config.Nodes;
using DbtRelay.Events;
using DbtRelay.Routing;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay check</c>: validate relay.json and explain what an event would fire.</summary>
internal static class CheckCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var config = RelayCli.ConfigOption();
        var eventFile = new Option<FileInfo?>("--event") { Description = "A dbt webhook body: print which routes and targets it would fire, and why the others would not." };
        var strict = new Option<bool>("--strict") { Description = "Fail (exit 2) while init's placeholder values are still in relay.json." };
        var command = new Command("check", "Validate relay.json (every problem, with its JSON path) and optionally explain an event.") { config, eventFile, strict };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (RelayCli.ResolveConfigPath(parse.GetValue(config)) is not { } path)
            {
                error.WriteLine(RelayCli.NoConfig);
                return 2;
            }
            var relay = RelayCli.LoadConfig(path, error);
            if (relay is null) return 2;

            var placeholders = Placeholders(await File.ReadAllTextAsync(path, cancellationToken)).ToList();
            if (placeholders.Count > 0 && parse.GetValue(strict))
            {
                foreach (var placeholder in placeholders) error.WriteLine($"error: {placeholder}");
                return 2;
            }
            output.WriteLine($"{path}: OK — {relay.Webhooks.Count} webhook(s), {relay.Targets.Count} target(s), {relay.Routes.Count} route(s).");
            foreach (var warning in relay.Warnings) output.WriteLine($"warning: {warning}");
            foreach (var placeholder in placeholders) output.WriteLine($"warning: {placeholder}");
            var store = new ConfigurationSecretStore(RelayCli.Configuration());
            foreach (var (secret, usedBy) in relay.SecretReferences.Distinct())
            {
                if (await store.GetAsync(secret, cancellationToken) is null)
                    output.WriteLine($"note: secret {secret} ({usedBy}) is not set locally ({store.Describe(secret)}); fine if Key Vault provides it.");
            }

            if (parse.GetValue(eventFile) is { } file)
            {
                if (await RelayCli.ReadUserFileAsync(file, "the event", error, cancellationToken) is not { } body) return 2;
                if (!DbtEventReader.TryRead(body, out var facts, out var problem))
                {
                    error.WriteLine($"{file.Name}: {problem!.Message}");
                    return 2;
                }
                var envelope = EventEnvelope.From(facts!, "check", TimeProvider.System.GetUtcNow(), body);
                output.WriteLine($"{envelope.EventId}: {envelope.EventType}, job {envelope.JobId}, status {envelope.RunStatus} ({envelope.RunStatusCode})");
                var verdicts = RouteMatcher.Explain(relay, envelope);
                foreach (var verdict in verdicts)
                {
                    output.WriteLine(verdict.Matched
                        ? $"  fires   {verdict.Route.Name} → {string.Join(", ", verdict.Route.Targets)}"
                        : $"  skips   {verdict.Route.Name}: {verdict.WhyNot}");
                }
                var targets = RouteMatcher.Targets(verdicts);
                output.WriteLine(targets.Count == 0 ? "  no target would be called." : $"  targets called once each: {string.Join(", ", targets)}");
                foreach (var target in targets.Where(relay.Coalesce.ContainsKey))
                {
                    output.WriteLine($"  {target} coalesces: this event joins its open window (or opens one); one call covers every event routed to it within {ConfigNode.Format(relay.Coalesce[target])}.");
                }
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Values <c>init</c> writes for a person to replace (YOUR_…, example.com, dbt account and job 1): valid JSON,
    /// so only this says the relay would call nothing real.
    /// </summary>
    private static IEnumerable<string> Placeholders(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        if (!document.RootElement.TryGetProperty("targets", out var targets) || targets.ValueKind != System.Text.Json.JsonValueKind.Object) yield break;
        foreach (var target in targets.EnumerateObject())
        {
            if (target.Value.ValueKind != System.Text.Json.JsonValueKind.Object) continue;
            foreach (var field in target.Value.EnumerateObject())
            {
                var at = $"$.targets.{target.Name}.{field.Name}";
                if (field.Value.ValueKind != System.Text.Json.JsonValueKind.String) continue;
                var text = field.Value.GetString()!;
                if (text.Contains("YOUR_", StringComparison.Ordinal) || text == "00000000-0000-0000-0000-000000000000" || (Uri.TryCreate(text, UriKind.Absolute, out var url) && url.Host == "example.com"))
                {
                    yield return $"{at} is still init's placeholder ({text}): put the real value there.";
                }
            }
            if (target.Value.TryGetProperty("type", out var type) && type.ValueEquals("dbt-cloud-job")
                && target.Value.TryGetProperty("accountId", out var account) && account.ValueKind == System.Text.Json.JsonValueKind.Number && account.GetInt64() == 1
                && target.Value.TryGetProperty("jobId", out var job) && job.ValueKind == System.Text.Json.JsonValueKind.Number && job.GetInt64() == 1)
            {
                yield return $"$.targets.{target.Name}.accountId and jobId are still init's placeholders (1 and 1): use the ids in the job's URL.";
            }
        }
    }
}
