using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// A generic endpoint (Erathos, Slack, …) that records requests and answers 200 unless scripted, optionally after a
/// delay (a slow downstream, to build a backlog).
/// </summary>
public sealed class FakeHttpEndpoint(int status = 200, TimeSpan? delay = null) : FakeApi
{
    private int _inFlight;
    private int _maxInFlight;

    /// <summary>The most requests this endpoint was answering at the same time.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        var now = Interlocked.Increment(ref _inFlight);
        for (var max = Volatile.Read(ref _maxInFlight); now > max; max = Volatile.Read(ref _maxInFlight))
        {
            Interlocked.CompareExchange(ref _maxInFlight, now, max);
        }
        try
        {
            if (delay is { } wait) await Task.Delay(wait, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            context.Response.StatusCode = status;
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
