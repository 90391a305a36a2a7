using Microsoft.AspNetCore.Http;

namespace DbtRelay.Tests.Fakes;

/// <summary>A generic endpoint (Erathos, Slack, …) that records requests and answers 200 unless scripted.</summary>
internal sealed class FakeHttpEndpoint(int status = 200) : FakeApi
{
    protected override Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
