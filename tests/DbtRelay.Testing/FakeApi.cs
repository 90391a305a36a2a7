using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Testing;

/// <summary>A request as a fake downstream API saw it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A scripted answer that overrides a fake's normal behaviour once (outages, throttling, slowness).</summary>
public sealed record ScriptedAnswer(int Status, TimeSpan? RetryAfter = null, TimeSpan? Delay = null, bool RunNormallyFirst = false);

/// <summary>
/// A real HTTP server on 127.0.0.1 (Kestrel, in process) standing in for a SaaS API: records every request and
/// answers per the documented API unless a scripted answer is queued.
/// </summary>
public abstract class FakeApi : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptedAnswer> _script = new();

    protected FakeApi()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.Run(HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        BaseUrl = ListeningAddress.Of(_app);
    }

    public Uri BaseUrl { get; }

    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    public int Calls(string method, string pathPrefix) =>
        Received.Count(r => r.Method == method && r.PathAndQuery.StartsWith(pathPrefix, StringComparison.Ordinal));

    public void Script(params ScriptedAnswer[] answers)
    {
        foreach (var answer in answers) _script.Enqueue(answer);
    }

    /// <summary>The documented behaviour of the API.</summary>
    protected abstract Task AnswerAsync(HttpContext context, ReceivedRequest request);

    private async Task HandleAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var request = new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), buffer.ToArray());
        Received.Enqueue(request);

        // Like the stricter gateways in front of these APIs: a chunked body (no Content-Length) is refused, so every
        // target's request framing is checked by every test that calls it.
        if (context.Request.Headers.TransferEncoding.Count > 0 || (request.Body.Length > 0 && context.Request.ContentLength is null))
        {
            context.Response.StatusCode = StatusCodes.Status411LengthRequired;
            return;
        }

        if (_script.TryDequeue(out var scripted))
        {
            if (scripted.RunNormallyFirst)
            {
                // The API did the work, but its answer arrives too late: the caller sees a timeout.
                await AnswerAsync(new DefaultHttpContext(), request);
            }
            if (scripted.Delay is { } delay) await Task.Delay(delay, context.RequestAborted).ContinueWith(_ => { });
            if (context.RequestAborted.IsCancellationRequested) return;
            context.Response.StatusCode = scripted.Status;
            if (scripted.RetryAfter is { } after) context.Response.Headers.RetryAfter = ((int)after.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsJsonAsync(new { error = $"scripted {scripted.Status}" });
            return;
        }
        await AnswerAsync(context, request);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
