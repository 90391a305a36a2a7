using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Tests.Fakes;

/// <summary>A vendor that answers whatever the test says: starts with StartBody, status checks with StatusBodies.</summary>
internal sealed class HostileVendor : FakeApi
{
    public string StartBody { get; set; } = """{"syncId":"sync_1","data":{"id":1}}""";
    public ConcurrentQueue<string> StatusBodies { get; } = new();
    private string _last = """{"status":"running"}""";

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        context.Response.ContentType = "application/json";
        if (request.Method == "POST") { await context.Response.WriteAsync(StartBody); return; }
        if (StatusBodies.TryDequeue(out var next)) _last = next;
        await context.Response.WriteAsync(_last);
    }
}
