using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// Application Insights' ingestion endpoint, as its public endpoint protocol describes it: <c>POST /v2.1/track</c>
/// (or <c>/v2/track</c>) with newline-delimited JSON envelopes, gzip-compressed when <c>Content-Encoding: gzip</c>
/// says so; 200 with <c>{"itemsReceived":n,"itemsAccepted":n,"errors":[]}</c>, 400 for a body that is not envelopes.
/// Point an app at it with <see cref="ConnectionString"/>.
/// </summary>
public sealed class FakeApplicationInsights : FakeApi
{
    public const string InstrumentationKey = "00000000-0000-0000-0000-00000000a1a1";

    /// <summary>Every envelope received, as JSON.</summary>
    public ConcurrentQueue<JsonElement> Items { get; } = new();

    public string ConnectionString => $"InstrumentationKey={InstrumentationKey};IngestionEndpoint={BaseUrl}";

    /// <summary>Log records as App Insights stores them (traces): message, severity and custom dimensions.</summary>
    public IEnumerable<(string Message, string Severity, IReadOnlyDictionary<string, string> Properties)> Traces()
    {
        foreach (var item in Items)
        {
            if (!item.TryGetProperty("data", out var data) || data.GetProperty("baseType").GetString() != "MessageData") continue;
            var baseData = data.GetProperty("baseData");
            var properties = baseData.TryGetProperty("properties", out var bag)
                ? bag.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString())
                : new Dictionary<string, string>();
            yield return (baseData.GetProperty("message").GetString()!,
                baseData.TryGetProperty("severityLevel", out var severity) ? severity.GetString()! : "Information", properties);
        }
    }

    /// <summary>Outgoing calls as App Insights stores them (dependencies): the URL or command (data) and the target.</summary>
    public IEnumerable<(string Data, string Target)> Dependencies()
    {
        foreach (var item in Items)
        {
            if (!item.TryGetProperty("data", out var data) || data.GetProperty("baseType").GetString() != "RemoteDependencyData") continue;
            var baseData = data.GetProperty("baseData");
            yield return (baseData.TryGetProperty("data", out var url) ? url.GetString() ?? "" : "",
                baseData.TryGetProperty("target", out var target) ? target.GetString() ?? "" : "");
        }
    }

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Method != "POST" || request.PathAndQuery.Split('?')[0] is not ("/v2.1/track" or "/v2/track"))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var body = request.Body;
        if (string.Equals(request.Header("Content-Encoding"), "gzip", StringComparison.OrdinalIgnoreCase))
        {
            using var gzip = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            await gzip.CopyToAsync(plain);
            body = plain.ToArray();
        }
        var received = new List<JsonElement>();
        try
        {
            foreach (var line in System.Text.Encoding.UTF8.GetString(body).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                using var envelope = JsonDocument.Parse(line);
                if (envelope.RootElement.GetProperty("iKey").GetString() != InstrumentationKey) throw new JsonException("unknown instrumentation key");
                received.Add(envelope.RootElement.Clone());
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            context.Response.StatusCode = 400;
            await context.Response.WriteAsJsonAsync(new { itemsReceived = 0, itemsAccepted = 0, errors = new[] { new { index = 0, statusCode = 400, message = ex.Message } } });
            return;
        }
        foreach (var item in received) Items.Enqueue(item);
        await context.Response.WriteAsJsonAsync(new { itemsReceived = received.Count, itemsAccepted = received.Count, errors = Array.Empty<object>() });
    }
}
