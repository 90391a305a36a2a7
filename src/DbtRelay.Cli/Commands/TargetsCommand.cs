using System.CommandLine;
using System.Globalization;
using DbtRelay.Cli.Clients;
using DbtRelay.Delivery;
using DbtRelay.Operations;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay targets list|pause NAME|resume NAME</c>: hold a target's deliveries, and let them go again.</summary>
internal static class TargetsCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var command = new Command("targets", "List paused targets, pause one (its deliveries wait, unattempted) or resume it.");
        command.Subcommands.Add(Build("list", "List the paused targets.", null, null, output, error, _ => TargetRoutes.List, HttpMethod.Get));
        var name = new Argument<string>("name") { Description = "The target's name in relay.json." };
        var reason = new Option<string?>("--reason") { Description = "Why (shown in list and the log)." };
        command.Subcommands.Add(Build("pause", "Pause a target: its deliveries wait until it is resumed (not attempted, not dead-lettered).", name, reason, output, error,
            parse => TargetRoutes.Pause.Replace("{name}", Uri.EscapeDataString(parse.GetValue(name)!), StringComparison.Ordinal)
                + (parse.GetValue(reason) is { } why ? "?reason=" + Uri.EscapeDataString(why) : ""), HttpMethod.Post));
        var name2 = new Argument<string>("name") { Description = "The target's name in relay.json." };
        command.Subcommands.Add(Build("resume", "Resume a paused target: its held deliveries go within 30 s, at its usual pace.", name2, null, output, error,
            parse => TargetRoutes.Resume.Replace("{name}", Uri.EscapeDataString(parse.GetValue(name2)!), StringComparison.Ordinal), HttpMethod.Post));
        return command;
    }

    private static Command Build(string verb, string description, Argument<string>? name, Option<string?>? reason, TextWriter output, TextWriter error,
        Func<ParseResult, string> path, HttpMethod method)
    {
        var url = OpsClient.UrlOption();
        var key = OpsClient.KeyOption();
        var json = OpsClient.JsonOption();
        var command = new Command(verb, description) { url, key, json };
        if (name is not null) command.Arguments.Add(name);
        if (reason is not null) command.Options.Add(reason);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var client = OpsClient.From(parse, url, key, error);
            if (await client.SendAsync(method, path(parse), cancellationToken) is not { } answer) return 2;
            using (answer.Body)
            {
                if (parse.GetValue(json))
                {
                    output.WriteLine(answer.Raw);
                    return answer.Status < 300 ? 0 : 1;
                }
                if (answer.Status >= 300) return client.Refused(answer) ? 1 : 0;
            }
            switch (verb)
            {
                case "list":
                    var paused = DeliveryJson.DeserializePauses(System.Text.Encoding.UTF8.GetBytes(answer.Raw));
                    if (paused.Count == 0) output.WriteLine("No target is paused.");
                    foreach (var p in paused) output.WriteLine($"{p.Target}  paused by {p.By} since {p.Since.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z: {p.Reason}");
                    break;
                case "pause":
                    output.WriteLine($"Paused {parse.GetValue(name!)}: its deliveries wait until `dbt-relay targets resume {parse.GetValue(name!)}`.");
                    break;
                default:
                    output.WriteLine($"Resumed {parse.GetValue(name!)}: its held deliveries go within 30 s.");
                    break;
            }
            return 0;
        });
        return command;
    }
}
