using System.CommandLine;
using System.Text;
using DbtRelay.Cli.Clients;
using DbtRelay.Operations;

namespace DbtRelay.Cli.Commands;

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
                // 202 (something queued) and 409 (nothing could be) answer what was done; anything else is an error.
                if (!answer.Body.RootElement.TryGetProperty("redelivered", out _)) return client.Refused(answer) ? 1 : 0;
            }
            var done = OpsJson.DeserializeRedeliverAnswer(Encoding.UTF8.GetBytes(answer.Raw));
            foreach (var item in done.Redelivered) output.WriteLine($"queued   {item.Target} (redelivery {item.Redelivery})");
            foreach (var item in done.Skipped) output.WriteLine($"skipped  {item.Target}: {item.Reason}");
            if (answer.Status < 300) output.WriteLine($"Follow it with: dbt-relay trace {parse.GetValue(eventId)}");
            return answer.Status < 300 ? 0 : 1;
        });
        return command;
    }
}
