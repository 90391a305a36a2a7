using System.Net;
using System.Text;
using DbtRelay.Delivery;
using DbtRelay.Webhooks;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DbtRelay.Functions.Tests;

/// <summary>The HTTP function over a mocked worker context: status codes and what reaches queue dbt-events.</summary>
public sealed class ReceiveDbtWebhookTests
{
    private const string Secret = "functions-test-secret";

    private static readonly ReceiveDbtWebhook Function = new(new WebhookIntake(
        new StaticWebhookSecrets([new WebhookSecret("prod", Secret)]), Options.Create(new IntakeOptions()),
        TimeProvider.System, NullLogger<WebhookIntake>.Instance));

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"accountId":1,"eventId":"wev_fn1","eventType":"job.run.completed","data":{"jobId":"123","runId":"9","runStatus":"Success","runStatusCode":10}}""");

    private static HttpRequestData Request(string method, byte[] body, string? authorization) =>
        FunctionRequests.Create(method, body, authorization);

    private static string Sign(byte[] body, string secret = Secret) => WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), body);

    private static string ResponseText(WebhookOutput output) => FunctionRequests.BodyText(output.Response);

    [Fact]
    public async Task Accepts_a_signed_event_answers_202_and_emits_one_queue_message()
    {
        var output = await Function.RunAsync(Request("POST", Body, Sign(Body)), default);

        Assert.Equal(HttpStatusCode.Accepted, output.Response.StatusCode);
        Assert.Contains("\"eventId\":\"wev_fn1\"", ResponseText(output));
        var envelope = WebhookJson.DeserializeEnvelope(Encoding.UTF8.GetBytes(output.Event!));
        Assert.Equal("wev_fn1", envelope.EventId);
        Assert.Equal("prod", envelope.Webhook);
        Assert.Equal(Body, envelope.SignedBody());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task Rejects_a_missing_or_wrong_signature_with_401_and_enqueues_nothing(string? signature)
    {
        var output = await Function.RunAsync(Request("POST", Body, signature), default);

        Assert.Equal(HttpStatusCode.Unauthorized, output.Response.StatusCode);
        Assert.Null(output.Event);
    }

    [Fact]
    public async Task Rejects_a_signed_non_event_with_400()
    {
        var body = "{\"hello\":true}"u8.ToArray();

        var output = await Function.RunAsync(Request("POST", body, Sign(body)), default);

        Assert.Equal(HttpStatusCode.BadRequest, output.Response.StatusCode);
        Assert.Null(output.Event);
    }

    [Theory]
    [InlineData(IntakeOptions.DefaultMaxBodyBytes, HttpStatusCode.Accepted)]
    [InlineData(IntakeOptions.DefaultMaxBodyBytes + 1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task Accepts_valid_events_up_to_exactly_48_KiB_and_refuses_larger_ones_with_413(int size, HttpStatusCode expected)
    {
        var head = Encoding.UTF8.GetString(Body)[..^2] + ",\"padding\":\"";
        var body = Encoding.UTF8.GetBytes(head + string.Concat(Enumerable.Repeat("\\\"", (size - head.Length - 3) / 2)) + new string('x', (size - head.Length - 3) % 2) + "\"}}");
        Assert.Equal(size, body.Length);

        var output = await Function.RunAsync(Request("POST", body, Sign(body)), default);

        Assert.Equal(expected, output.Response.StatusCode);
        Assert.Equal(expected == HttpStatusCode.Accepted, output.Event is not null);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    [InlineData("PUT")]
    public async Task Answers_405_with_Allow_POST_to_other_methods(string method)
    {
        var output = await Function.RunAsync(Request(method, [], null), default);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, output.Response.StatusCode);
        Assert.Equal("POST", output.Response.Headers.GetValues("Allow").Single());
        Assert.Null(output.Event);
    }

    [Fact]
    public void The_queue_output_targets_dbt_events()
    {
        var attribute = typeof(WebhookOutput).GetProperty(nameof(WebhookOutput.Event))!
            .GetCustomAttributes(typeof(QueueOutputAttribute), false).Cast<QueueOutputAttribute>().Single();

        Assert.Equal(QueueNames.Events, attribute.QueueName);
    }
}
