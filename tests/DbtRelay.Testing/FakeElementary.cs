using System.Collections.Concurrent;
using System.Text;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// Elementary Cloud's sync webhook: <c>POST /webhooks/{id}</c>; <c>Authorization</c> must be the hex HMAC-SHA256 of
/// the received bytes with the shared secret, else 401.
/// </summary>
public sealed class FakeElementary(string secret) : FakeApi
{
    public ConcurrentQueue<bool> SignatureChecks { get; } = new();

    public Uri WebhookUrl => new(BaseUrl, "webhooks/wh_example");

    protected override Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        var expected = WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), request.Body);
        var valid = string.Equals(request.Header("Authorization"), expected, StringComparison.Ordinal);
        SignatureChecks.Enqueue(valid);
        context.Response.StatusCode = valid ? 200 : 401;
        return Task.CompletedTask;
    }
}
