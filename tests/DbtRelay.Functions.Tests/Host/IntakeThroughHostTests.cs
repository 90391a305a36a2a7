using System.Net;
using DbtRelay.Webhooks;

namespace DbtRelay.Functions.Tests.Host;

/// <summary>What the host owns in front of the worker: methods, body size, routes, keys and auth levels.</summary>
[Collection(HostTests.Name)]
public sealed class IntakeThroughHostTests(HostedRelay relay)
{
    [SkippableTheory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    public async Task Every_other_method_on_the_webhook_gets_405_with_allow_post(string method)
    {
        relay.Require();

        using var response = await relay.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), relay.Host.Url("api/dbt/webhook")));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", string.Join(",", response.Content.Headers.Allow));
    }

    [SkippableFact]
    public async Task A_valid_event_of_exactly_48_KiB_is_accepted_and_one_byte_more_is_refused_with_413()
    {
        relay.Require();
        var head = DbtPayloads.Completed(eventId: "wev_host_limit", jobId: "700")[..^1] + ",\"padding\":\"";
        byte[] Sized(int size) => DbtPayloads.Bytes(head + string.Concat(Enumerable.Repeat("\\\"", (size - head.Length - 2) / 2)) + new string('x', (size - head.Length - 2) % 2) + "\"}");
        var atLimit = Sized(IntakeOptions.DefaultMaxBodyBytes);
        var over = Sized(IntakeOptions.DefaultMaxBodyBytes + 1);

        using var accepted = await relay.PostSignedAsync(atLimit, DbtPayloads.Sign(HostedRelay.WebhookSecret, atLimit));
        using var refused = await relay.PostSignedAsync(over, DbtPayloads.Sign(HostedRelay.WebhookSecret, over));
        // Job 700 has no route: the event is stored, routed and skipped, which needs its whole 48 KiB through the queue.
        History.EventTimeline? timeline = null;
        await Eventually.True(async () => (timeline = await relay.TimelineAsync("wev_host_limit"))?.Status == History.EventStatus.Skipped, TimeSpan.FromSeconds(30));

        Assert.Equal((IntakeOptions.DefaultMaxBodyBytes, IntakeOptions.DefaultMaxBodyBytes + 1), (atLimit.Length, over.Length));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("700", timeline!.JobId);
    }

    [SkippableFact]
    public async Task Unsigned_and_wrongly_signed_webhooks_get_401_and_health_needs_no_key()
    {
        relay.Require();
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_host_unsigned", jobId: "100"));

        using var unsigned = await relay.PostSignedAsync(body, null);
        using var wrong = await relay.PostSignedAsync(body, DbtPayloads.Sign("another-secret", body));
        using var health = await relay.Client.GetAsync(relay.Host.Url("api/health"));

        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("invalid_signature", await wrong.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Null(await relay.TimelineAsync("wev_host_unsigned"));
    }

    public static TheoryData<string, string> OpsRoutes => new()
    {
        { "GET", "ops/dead-letters" },
        { "POST", "ops/dead-letters/replay?max=1" },
        { "POST", "ops/dead-letters/wev_host_none/crm-all/replay" },
        { "GET", "events" },
        { "GET", "events/wev_host_none" },
        { "POST", "events/wev_host_none/redeliver" },
        { "GET", "ops/targets" },
        { "POST", "ops/targets/no-such-target/pause" },
        { "POST", "ops/targets/no-such-target/resume" },
    };

    [SkippableTheory]
    [MemberData(nameof(OpsRoutes))]
    public async Task Every_ops_route_needs_a_function_or_master_key_in_the_header_or_the_code_query(string method, string route)
    {
        relay.Require();
        async Task<HttpStatusCode> Send(string? header, string? code)
        {
            var url = relay.Host.Url("api/" + route + (code is null ? "" : (route.Contains('?', StringComparison.Ordinal) ? "&" : "?") + "code=" + Uri.EscapeDataString(code)));
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (header is not null) request.Headers.Add("x-functions-key", header);
            using var response = await relay.Client.SendAsync(request);
            return response.StatusCode;
        }

        var none = await Send(null, null);
        var wrong = await Send("not-a-key", null);
        var function = await Send(relay.Host.FunctionKey, null);
        var code = await Send(null, relay.Host.FunctionKey);
        var master = await Send(relay.Host.MasterKey, null);

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (none, wrong));
        Assert.All(new[] { function, code, master }, status => Assert.NotEqual(HttpStatusCode.Unauthorized, status));
        Assert.All(new[] { function, code, master }, status => Assert.True((int)status < 500, $"{method} {route}: {(int)status}"));
    }
}
