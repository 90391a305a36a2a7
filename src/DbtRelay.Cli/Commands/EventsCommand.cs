using System.CommandLine;
using System.Globalization;
using DbtRelay.Cli.Clients;
using DbtRelay.History;

namespace DbtRelay.Cli.Commands;

/// <summary><c>dbt-relay events</c>: the delivery history, newest first, filtered like the API.</summary>
internal static class EventsCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var status = new Option<string?>("--status") { Description = $"Only events in this state: {string.Join(", ", EventStatus.All)}." };
        status.AcceptOnlyFromAmong([.. EventStatus.All]);
        var job = new Option<string?>("--job", "-j") { Description = "Only this dbt Cloud job id." };
        var target = new Option<string?>("--target", "-t") { Description = "Only events routed to this target." };
        var since = new Option<string?>("--since") { Description = "Only events received since a time (2026-11-22T10:00:00Z) or an age (30m, 24h, 7d)." };
        var limit = new Option<int>("--limit", "-n") { Description = "How many events (1-200).", DefaultValueFactory = _ => EventQuery.DefaultLimit };
        var after = new Option<string?>("--after") { Description = "Continue after a previous page (the value it printed)." };
        var url = OpsClient.UrlOption();
        var key = OpsClient.KeyOption();
        var json = OpsClient.JsonOption();
        var command = new Command("events", "List accepted events and what happened to each, newest first.")
        {
            status, job, target, since, limit, after, url, key, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var query = string.Join("&", new[]
            {
                ("status", parse.GetValue(status)), ("jobId", parse.GetValue(job)), ("target", parse.GetValue(target)),
                ("since", parse.GetValue(since)), ("limit", parse.GetValue(limit).ToString(CultureInfo.InvariantCulture)), ("after", parse.GetValue(after)),
            }.Where(p => !string.IsNullOrEmpty(p.Item2)).Select(p => $"{p.Item1}={Uri.EscapeDataString(p.Item2!)}"));
            return await OpsClient.From(parse, url, key, error).ShowAsync("events?" + query, parse.GetValue(json), output,
                body => Print(HistoryJson.DeserializePage(body), output), cancellationToken);
        });
        return command;
    }

    private static void Print(EventPage page, TextWriter output)
    {
        if (page.Events.Count == 0)
        {
            output.WriteLine("No events match.");
            return;
        }
        var rows = page.Events.Select(e => new[]
        {
            e.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), e.EventId, e.EventType,
            e.JobId ?? "-", e.RunId ?? "-", e.RunStatus ?? "-", e.Status,
            e.Targets.Count == 0 ? "(no route matched)" : string.Join(", ", e.Targets.Select(t => $"{t.Key} {t.Value}")),
        }).ToList();
        string[] header = ["RECEIVED (UTC)", "EVENT", "TYPE", "JOB", "RUN", "RUN STATUS", "STATUS", "TARGETS"];
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            output.WriteLine(string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
        }
        if (page.Next is not null) output.WriteLine($"More: dbt-relay events --after {page.Next}");
    }
}
