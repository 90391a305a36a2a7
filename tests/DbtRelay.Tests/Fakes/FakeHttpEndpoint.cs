using Microsoft.AspNetCore.Http;

namespace DbtRelay.Tests.Fakes;

/// <summary>
/// A generic endpoint (Erathos, Slack, …) that records requests and answers 200 unless scripted, optionally after a
/// delay (a slow downstream, to build a backlog).
/// </summary>
internal sealed class FakeHttpEndpoint(int status = 200, TimeSpan? delay = null) : FakeApi
{
    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (delay is { } wait) await Task.Delay(wait, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
        context.Response.StatusCode = status;
    }
}
