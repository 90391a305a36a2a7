using System.CommandLine;
using System.Globalization;
using DbtRelay.Cli.Clients;
using DbtRelay.History;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay trace EVENT</c>: one event's timeline — routing, then each target's attempts.</summary>
internal static class TraceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var eventId = new Argument<string>("eventId") { Description = "The dbt event id (wev_…), as `dbt-relay events` lists it." };
        var url = OpsClient.UrlOption();
        var key = OpsClient.KeyOption();
        var json = OpsClient.JsonOption();
        var command = new Command("trace", "Show what happened to one event: routes, and every attempt per target.") { eventId, url, key, json };
        command.SetAction(async (parse, cancellationToken) =>
        {
            return await OpsClient.From(parse, url, key, error).ShowAsync("events/" + Uri.EscapeDataString(parse.GetValue(eventId)!), parse.GetValue(json), output,
                body => Print(HistoryJson.DeserializeTimeline(body), output), cancellationToken);
        });
        return command;
    }

    private static void Print(EventTimeline e, TextWriter output)
    {
        output.WriteLine($"{e.EventId}  {e.EventType}  job {e.JobId ?? "-"}  run {e.RunId ?? "-"} ({e.RunStatus ?? "no status"})");
        output.WriteLine($"  received {Time(e.ReceivedAt)} by webhook {e.Webhook ?? "?"}; routed {(e.RoutedAt is { } at ? Time(at) : "-")}");
        output.WriteLine($"  status: {e.Status}");
        foreach (var reason in e.NotMatched) output.WriteLine($"  route not matched: {reason}");
        foreach (var target in e.Targets)
        {
            output.WriteLine($"  {target.Target} ({target.Type ?? "?"}): {target.State}");
            foreach (var a in target.Attempts)
            {
                var attempt = (a.Redelivery > 0 ? $"redelivery {a.Redelivery} " : "") + (a.Replay is { } replay ? $"replay {replay} " : "") + $"#{a.Attempt}";
                if (a.Outcome == "coalesced")
                {
                    output.WriteLine($"    {attempt,-16} {Time(a.At)}  {a.Outcome,-13} {a.Detail}"); // a decision, not a call
                    continue;
                }
                var http = a.HttpStatus is { } code ? $"HTTP {code}" : "no HTTP answer";
                var downstream = a.DownstreamId is null ? "" : $"  id {a.DownstreamId}";
                output.WriteLine($"    {attempt,-16} {Time(a.At)}  {a.Outcome,-13} {http,-14} {a.DurationMs,6} ms{downstream}  {a.Detail}");
                if (a.Covers is { Count: > 1 } covers) output.WriteLine($"      one call for {covers.Count} coalesced events: {string.Join(", ", covers)}");
                if (a.CoveredBy is { } by) output.WriteLine($"      made for the coalesced events with {by}'s values (dbt-relay trace {by})");
            }
            if (target.Run is { } run) PrintRun(run, output);
            foreach (var n in target.Notices)
            {
                var http = n.HttpStatus is { } code ? $"HTTP {code}" : "no HTTP answer";
                output.WriteLine($"    onFailure → {n.Notified} about run {n.AboutRun}: {n.Outcome} {Time(n.At)}  {http}  {n.Detail}");
            }
        }
        if (e.Targets.Count == 0) output.WriteLine("  no target: no route matched this event.");
    }

    private static void PrintRun(RunRecord run, TextWriter output)
    {
        var vendor = run.VendorStatus is { } said && !said.Equals(run.State, StringComparison.OrdinalIgnoreCase) ? $" ({said})" : "";
        var duration = run.DurationMs is { } ms ? $" in {Duration(ms)}" : "";
        output.WriteLine($"    downstream run {run.Id}: {run.State}{vendor}{duration}, {run.Checks} status check{(run.Checks == 1 ? "" : "s")}");
        if (run.StartedAt is not null || run.FinishedAt is not null)
            output.WriteLine($"      started {(run.StartedAt is { } s ? Time(s) : "-")}, finished {(run.FinishedAt is { } f ? Time(f) : "-")}");
        if (run.Counts is { Count: > 0 } counts) output.WriteLine($"      records: {string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}"))}");
        if (run.Error is { } error) output.WriteLine($"      error: {error}");
        if (run.Detail is { } detail) output.WriteLine($"      {detail}");
        if (run.Url is { } url) output.WriteLine($"      {url}");
    }

    private static string Duration(long ms) => ms switch
    {
        < 1000 => $"{ms} ms",
        < 60_000 => $"{ms / 1000.0:0.#} s",
        _ => $"{ms / 60_000} min {ms / 1000 % 60} s",
    };

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z";
}
