using System.CommandLine;

namespace DbtRelay.Cli;

/// <summary><c>dbt-relay redeliver EVENT [--target NAME]</c>: call the event's targets again, deliberately.</summary>
internal static class RedeliverCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var eventId = new Argument<string>("eventId") { Description = "The dbt event id (wev_…)." };
        var target = new Option<string?>("--target", "-t") { Description = "Only this target (default: every target the event was routed to)." };
        var url = OpsClient.UrlOption();
        var key = OpsClient.KeyOption();
        var json = OpsClient.JsonOption();
        var command = new Command("redeliver",
            "Queue an event again for its targets: each is called once more (a delivered target too), recorded as a new attempt. Targets still being retried are left alone.")
        {
            eventId, target, url, key, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = "events/" + Uri.EscapeDataString(parse.GetValue(eventId)!) + "/redeliver"
                + (parse.GetValue(target) is { } name ? "?target=" + Uri.EscapeDataString(name) : "");
            var client = OpsClient.From(parse, url, key, error);
            if (await client.SendAsync(HttpMethod.Post, path, cancellationToken) is not { } answer) return 2;
            using (answer.Body)
            {
                if (parse.GetValue(json))
                {
                    output.WriteLine(answer.Raw);
                    return answer.Status < 300 ? 0 : 1;
                }
                var root = answer.Body.RootElement;
                if (root.TryGetProperty("redelivered", out var queued))
                {
                    foreach (var item in queued.EnumerateArray())
                        output.WriteLine($"queued   {item.GetProperty("target").GetString()} (redelivery {item.GetProperty("redelivery").GetInt32()})");
                    foreach (var item in root.GetProperty("skipped").EnumerateArray())
                        output.WriteLine($"skipped  {item.GetProperty("target").GetString()}: {item.GetProperty("reason").GetString()}");
                    if (answer.Status < 300) output.WriteLine($"Follow it with: dbt-relay trace {parse.GetValue(eventId)}");
                    return answer.Status < 300 ? 0 : 1;
                }
                return client.Refused(answer) ? 1 : 0;
            }
        });
        return command;
    }
}
