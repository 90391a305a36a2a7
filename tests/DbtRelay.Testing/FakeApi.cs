using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Testing;

/// <summary>A request as a fake downstream API saw it.</summary>
public sealed record ReceivedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    /// <summary>The request target exactly as it came on the wire, before the server decoded or normalized it.</summary>
    public string RawTarget { get; init; } = PathAndQuery;

    public string BodyText => System.Text.Encoding.UTF8.GetString(Body);
    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A scripted answer that overrides a fake's normal behaviour once (outages, throttling, slowness).</summary>
public sealed record ScriptedAnswer(int Status, TimeSpan? RetryAfter = null, TimeSpan? Delay = null, bool RunNormallyFirst = false)
{
    /// <summary>A <c>Location</c> header (a redirect).</summary>
    public Uri? Location { get; init; }

    /// <summary>Instead of the usual error body, this many bytes of a JSON document, streamed without a Content-Length.</summary>
    public long BodyBytes { get; init; }

    /// <summary>
    /// How much of <see cref="BodyBytes"/> the server has handed to the connection, the write in flight included (so
    /// never less than what the client read; paced, so not much more).
    /// </summary>
    public long Written => Interlocked.Read(ref _written);

    private long _written;

    internal void AddWritten(long bytes) => Interlocked.Add(ref _written, bytes);
}

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
        // Header bytes as they came (Latin-1 maps each byte to one char), so a test can see what was sent.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1);
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
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), buffer.ToArray())
        {
            RawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget ?? "",
        };
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
            if (scripted.RetryAfter is { } after) context.Response.Headers.RetryAfter = ((long)after.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (scripted.Location is { } location) context.Response.Headers.Location = location.ToString();
            if (scripted.BodyBytes > 0)
            {
                await StreamLargeBodyAsync(context, scripted);
                return;
            }
            await context.Response.WriteAsJsonAsync(new { error = $"scripted {scripted.Status}" });
            return;
        }
        await AnswerAsync(context, request);
    }

    /// <summary><c>{"syncId":"big","pad":"xxx…"}</c>, <see cref="ScriptedAnswer.BodyBytes"/> long in all, until the client stops reading.</summary>
    private static async Task StreamLargeBodyAsync(HttpContext context, ScriptedAnswer scripted)
    {
        context.Response.ContentType = "application/json";
        var head = System.Text.Encoding.ASCII.GetBytes("{\"syncId\":\"big\",\"pad\":\"");
        var chunk = Enumerable.Repeat((byte)'x', 64 * 1024).ToArray();
        try
        {
            scripted.AddWritten(head.Length);
            await context.Response.Body.WriteAsync(head, context.RequestAborted);
            for (var left = scripted.BodyBytes - head.Length - 2; left > 0; left -= chunk.Length)
            {
                var size = (int)Math.Min(left, chunk.Length);
                // Counted before the write completes: a client that reads part of it and hangs up has still seen it.
                scripted.AddWritten(size);
                // The pipe says when the client is gone (a plain stream write to a dropped connection just completes).
                var flushed = await context.Response.BodyWriter.WriteAsync(chunk.AsMemory(0, size), context.RequestAborted);
                if (flushed.IsCompleted || flushed.IsCanceled) return;
                // A megabyte per 20 ms at most: Kestrel goes on accepting writes after the client hung up, so only a
                // paced writer's count says how much the client took before it stopped.
                if (scripted.Written % (1 << 20) < size) await Task.Delay(20, context.RequestAborted);
            }
            scripted.AddWritten(2);
            await context.Response.Body.WriteAsync("\"}"u8.ToArray(), context.RequestAborted);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The client hung up: what it did not read was never sent.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
