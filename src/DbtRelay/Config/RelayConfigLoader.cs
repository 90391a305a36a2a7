using System.Text.Json;
using DbtRelay.Config.Nodes;
using DbtRelay.Events;
using DbtRelay.Secrets;
using DbtRelay.Targets;
using DbtRelay.Webhooks;

namespace DbtRelay.Config;

/// <summary>Reads and validates relay.json, reporting every problem with its JSON path.</summary>
public static class RelayConfigLoader
{
    public static RelayConfig LoadFile(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RelayConfigException(path, [new ConfigProblem("$", $"cannot be read: {ex.Message}")]);
        }
        return Load(json, path);
    }

    /// <summary>The validated configuration, or a <see cref="RelayConfigException"/> listing all problems.</summary>
    public static RelayConfig Load(string json, string source = "relay.json")
    {
        JsonDocument document;
        try
        {
            // Strict JSON, as relay.schema.json and every JSON tool reads it: no comments, no trailing commas
            // ("description" fields carry notes).
            document = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        }
        catch (JsonException ex)
        {
            var error = JsonSyntaxError.From(ex);
            throw new RelayConfigException(source, [new ConfigProblem(error.Where, $"is not valid JSON: {error.Reason}")]);
        }
        using (document)
        {
            var problems = new ConfigProblems();
            var config = Read(new ConfigNode(document.RootElement, "$", problems));
            if (problems.Errors.Count > 0) throw new RelayConfigException(source, problems.Errors);
            return config with { Warnings = problems.Warnings };
        }
    }

    private static RelayConfig Read(ConfigNode root)
    {
        if (!root.ExpectObject()) return Empty;
        root.AllowOnly("webhooks", "targets", "routes", "vars");

        var vars = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root["vars"].ExpectObject(required: false))
        {
            foreach (var v in root["vars"].Element.EnumerateObject())
            {
                if (root["vars"][v.Name].Text(required: true) is { } value) vars[v.Name] = value;
            }
        }

        var webhooks = ReadWebhooks(root["webhooks"]);
        var targets = ReadTargets(root["targets"], vars);
        CheckOnFailure(root["targets"], targets);
        var routes = ReadRoutes(root["routes"], targets);
        return new RelayConfig(webhooks, targets, routes, vars, []) { Coalesce = ReadCoalesce(root["targets"], targets) };
    }

    private static readonly RelayConfig Empty = new([], new Dictionary<string, IDeliveryTarget>(), [], new Dictionary<string, string>(), []);

    private static List<WebhookDefinition> ReadWebhooks(ConfigNode node)
    {
        var webhooks = new List<WebhookDefinition>();
        if (node.Element.ValueKind != JsonValueKind.Array || node.Element.GetArrayLength() == 0)
        {
            node.Error("must list at least one webhook ({\"name\": …, \"secret\": …}): the relay never accepts unsigned events");
            return webhooks;
        }
        for (var i = 0; i < node.Element.GetArrayLength(); i++)
        {
            var webhook = node.At(i);
            if (!webhook.ExpectObject()) continue;
            webhook.AllowOnly("name", "secret", "description");
            var name = webhook["name"].Text(required: true);
            var secret = webhook["secret"].SecretName(required: true);
            if (name is null || secret is null) continue;
            if (webhooks.Any(w => w.Name == name)) webhook["name"].Error($"duplicates webhook '{name}'");
            else webhooks.Add(new WebhookDefinition(name, secret));
        }
        return webhooks;
    }

    private static Dictionary<string, IDeliveryTarget> ReadTargets(ConfigNode node, IReadOnlyDictionary<string, string> vars)
    {
        var targets = new Dictionary<string, IDeliveryTarget>(StringComparer.Ordinal);
        if (!node.ExpectObject()) return targets;
        foreach (var entry in node.Element.EnumerateObject())
        {
            var target = node[entry.Name];
            if (!target.ExpectObject()) continue;
            if (!SecretNames.IsValid(entry.Name)) target.Error($"target names use {SecretNames.Rule}");
            var type = target["type"].Text(required: true);
            if (type is null) continue;
            if (!TargetTypes.All.TryGetValue(type, out var create))
            {
                target["type"].Error($"unknown target type '{type}' (known: {string.Join(", ", TargetTypes.All.Keys)})");
                continue;
            }
            if (create(new TargetDefinition(entry.Name, target, vars)) is { } created) targets[entry.Name] = created;
        }
        return targets;
    }

    /// <summary><c>coalesce</c>: how long a target's window stays open, 1s to 6h (a queued closing waits that long).</summary>
    private static Dictionary<string, TimeSpan> ReadCoalesce(ConfigNode node, Dictionary<string, IDeliveryTarget> targets)
    {
        var windows = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        if (node.Element.ValueKind != JsonValueKind.Object) return windows;
        // Every declared target is read, so a bad window is reported with the target's other mistakes.
        foreach (var entry in node.Element.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Object) continue;
            var window = node[entry.Name]["coalesce"].Duration(TimeSpan.FromSeconds(1), TimeSpan.FromHours(6));
            if (window is { } length && targets.ContainsKey(entry.Name)) windows[entry.Name] = length;
        }
        return windows;
    }

    /// <summary>An <c>onFailure</c> entry names another defined target (a notice is a call, never followed itself).</summary>
    private static void CheckOnFailure(ConfigNode node, Dictionary<string, IDeliveryTarget> targets)
    {
        foreach (var target in targets.Values.OfType<IFollowedTarget>())
        {
            var list = node[target.Name]["onFailure"];
            if (target.Follow is null || list.Element.ValueKind != JsonValueKind.Array) continue;
            for (var i = 0; i < list.Element.GetArrayLength(); i++)
            {
                if (list.Element[i].ValueKind != JsonValueKind.String)
                {
                    if (list.Element[i].ValueKind == JsonValueKind.Number) list.At(i).Error("must be a target's name, in quotes");
                    continue;
                }
                var name = list.Element[i].GetString()!;
                if (name == target.Name) list.At(i).Error("names the target itself; name the target to call when this one's run fails (an http target for Slack, Teams, PagerDuty)");
                else if (!targets.ContainsKey(name) && !TargetDeclared(node, name)) list.At(i).Error($"names target '{name}', which is not defined in targets");
            }
        }
    }

    private static List<Route> ReadRoutes(ConfigNode node, Dictionary<string, IDeliveryTarget> targets)
    {
        var routes = new List<Route>();
        if (node.Element.ValueKind != JsonValueKind.Array)
        {
            node.Error(node.Exists ? "must be an array" : "is required (an empty list routes nothing)");
            return routes;
        }
        for (var i = 0; i < node.Element.GetArrayLength(); i++)
        {
            var route = node.At(i);
            if (!route.ExpectObject()) continue;
            route.AllowOnly("name", "when", "targets", "description");
            var name = route["name"].Text(required: false) ?? $"route-{i + 1}";
            var when = ReadCondition(route["when"]);

            var targetNames = route["targets"].StringList();
            if (targetNames.Count == 0) route["targets"].Error("must name at least one target");
            for (var t = 0; t < targetNames.Count; t++)
            {
                // A name that failed its own validation was already reported at its definition.
                if (!targets.ContainsKey(targetNames[t]) && !TargetDeclared(node, targetNames[t]))
                    route["targets"].At(t).Error($"names target '{targetNames[t]}', which is not defined in targets");
            }
            if (routes.Any(r => r.Name == name)) route["name"].Error($"duplicates route '{name}'");
            if (when is not null && when.FiresTwiceForAnErroredRun)
            {
                route["when"]["eventTypes"].Warning($"subscribes to both {RouteCondition.Completed} and {RouteCondition.Errored}: dbt sends both for one errored run, so [{string.Join(", ", targetNames)}] would be called twice for it");
            }
            if (when is not null) routes.Add(new Route(name, when, targetNames.Distinct().ToList()));
        }
        return routes;
    }

    private static bool TargetDeclared(ConfigNode node, string name) =>
        node.Problems.Errors.Any(e => e.Path.StartsWith(ConfigNode.ChildPath("$.targets", name), StringComparison.Ordinal));

    private static RouteCondition? ReadCondition(ConfigNode when)
    {
        if (when.Exists && !when.ExpectObject()) return null;
        when.AllowOnly("eventTypes", "runStatus", "jobIds", "environmentIds", "projectIds", "fields");
        var fields = new List<FieldCondition>();
        if (when["fields"].ExpectObject(required: false))
        {
            foreach (var field in when["fields"].Element.EnumerateObject())
            {
                if (FieldCondition.Read(field.Name, when["fields"][field.Name]) is { } condition) fields.Add(condition);
            }
        }
        var eventTypes = when["eventTypes"].StringList();
        var statuses = new HashSet<int>();
        var statusNode = when["runStatus"];
        var statusValues = statusNode.StringList();
        for (var i = 0; i < statusValues.Count; i++)
        {
            if (DbtRunStatus.ToCode(statusValues[i]) is { } code) statuses.Add(code);
            else statusNode.At(i).Error($"'{statusValues[i]}' is not a run status (Running, Success, Errored, Cancelled or 3, 10, 20, 30)");
        }
        foreach (var (type, index) in eventTypes.Select((t, i) => (t, i)))
        {
            if (!type.StartsWith("job.run.", StringComparison.Ordinal))
                when["eventTypes"].At(index).Warning($"'{type}' is not a dbt job run event type known today (job.run.started, job.run.completed, job.run.errored)");
        }
        return new RouteCondition(
            eventTypes.Count == 0 ? RouteCondition.DefaultEventTypes : eventTypes.ToHashSet(StringComparer.Ordinal),
            statuses,
            when["jobIds"].StringList().ToHashSet(StringComparer.Ordinal),
            when["environmentIds"].StringList().ToHashSet(StringComparer.Ordinal),
            when["projectIds"].StringList().ToHashSet(StringComparer.Ordinal)) { Fields = fields };
    }
}
