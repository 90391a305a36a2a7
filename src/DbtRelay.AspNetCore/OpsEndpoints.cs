using System.Text;
using DbtRelay.Operations;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.AspNetCore;

/// <summary>The ops API's handlers: each hands its route's values to the library and writes the answer it gets.</summary>
internal static class OpsEndpoints
{
    public static IResult Health() => Answer(Operations.Health.Answer);

    public static async Task<IResult> ListEventsAsync(EventsApi api, string? since, string? status, string? jobId, string? target, string? limit, string? after,
        CancellationToken ct) => Answer(await api.ListAsync(since, status, jobId, target, limit, after, ct));

    public static async Task<IResult> GetEventAsync(EventsApi api, string eventId, CancellationToken ct) => Answer(await api.GetAsync(eventId, ct));

    public static async Task<IResult> RedeliverAsync(EventsApi api, string eventId, string? target, CancellationToken ct) =>
        Answer(await api.RedeliverAsync(eventId, target, ct));

    public static async Task<IResult> ListDeadLettersAsync(DeadLettersApi api, int? max, CancellationToken ct) => Answer(await api.ListAsync(max, ct));

    public static async Task<IResult> ReplayDeadLettersAsync(DeadLettersApi api, int? max, CancellationToken ct) => Answer(await api.ReplayAllAsync(max, ct));

    public static async Task<IResult> ReplayDeadLetterAsync(DeadLettersApi api, string eventId, string target, CancellationToken ct) =>
        Answer(await api.ReplayOneAsync(eventId, target, ct));

    public static async Task<IResult> ListPausedAsync(TargetsApi api, CancellationToken ct) => Answer(await api.ListAsync(ct));

    public static async Task<IResult> PauseAsync(TargetsApi api, string name, string? reason, CancellationToken ct) => Answer(await api.PauseAsync(name, reason, ct));

    public static async Task<IResult> ResumeAsync(TargetsApi api, string name, CancellationToken ct) => Answer(await api.ResumeAsync(name, ct));

    private static IResult Answer(OpsAnswer answer) => Results.Text(Encoding.UTF8.GetString(answer.Body), "application/json", Encoding.UTF8, answer.Status);
}
