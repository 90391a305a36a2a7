using System.Net;
using System.Text;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Webhooks;
using Microsoft.Azure.Functions.Worker.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DbtRelay.Functions.Tests;

/// <summary>The HTTP function over a mocked worker context: status codes and what is stored on queue dbt-events.</summary>
public sealed class ReceiveDbtWebhookTests
{
    private const string Secret = "functions-test-secret";

    private readonly InMemoryRelayQueues _queues = new(TimeProvider.System);

    private ReceiveDbtWebhook Function(IAcceptedEventStore? store = null) => new(new WebhookIntake(
        new StaticWebhookSecrets([new WebhookSecret("prod", Secret)]), store ?? _queues, Options.Create(new IntakeOptions()),
        TimeProvider.System, NullLogger<WebhookIntake>.Instance));

    /// <summary>The messages stored on dbt-events.</summary>
    private List<byte[]> Stored()
    {
        var stored = new List<byte[]>();
        while (_queues.Events.Reader.TryRead(out var message)) stored.Add(message.ToArray());
        return stored;
    }

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        """{"accountId":1,"eventId":"wev_fn1","eventType":"job.run.completed","data":{"jobId":"123","runId":"9","runStatus":"Success","runStatusCode":10}}""");

    private static HttpRequestData Request(string method, byte[] body, string? authorization) =>
        FunctionRequests.Create(method, body, authorization);

    private static string Sign(byte[] body, string secret = Secret) => WebhookSignature.Compute(Encoding.UTF8.GetBytes(secret), body);

    private static string ResponseText(HttpResponseData output) => FunctionRequests.BodyText(output);

    [Fact]
    public async Task Accepts_a_signed_event_answers_202_and_emits_one_queue_message()
    {
        var output = await Function().RunAsync(Request("POST", Body, Sign(Body)), default);

        Assert.Equal(HttpStatusCode.Accepted, output.StatusCode);
        Assert.Contains("\"eventId\":\"wev_fn1\"", ResponseText(output));
        var envelope = EventJson.DeserializeEnvelope(Assert.Single(Stored()));
        Assert.Equal("wev_fn1", envelope.EventId);
        Assert.Equal("prod", envelope.Webhook);
        Assert.Equal(Body, envelope.SignedBody());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")]
    public async Task Rejects_a_missing_or_wrong_signature_with_401_and_enqueues_nothing(string? signature)
    {
        var output = await Function().RunAsync(Request("POST", Body, signature), default);

        Assert.Equal(HttpStatusCode.Unauthorized, output.StatusCode);
        Assert.Empty(Stored());
    }

    [Fact]
    public async Task Rejects_a_signed_non_event_with_400()
    {
        var body = "{\"hello\":true}"u8.ToArray();

        var output = await Function().RunAsync(Request("POST", body, Sign(body)), default);

        Assert.Equal(HttpStatusCode.BadRequest, output.StatusCode);
        Assert.Empty(Stored());
    }

    [Theory]
    [InlineData(IntakeOptions.DefaultMaxBodyBytes, HttpStatusCode.Accepted)]
    [InlineData(IntakeOptions.DefaultMaxBodyBytes + 1, HttpStatusCode.RequestEntityTooLarge)]
    public async Task Accepts_valid_events_up_to_exactly_48_KiB_and_refuses_larger_ones_with_413(int size, HttpStatusCode expected)
    {
        var head = Encoding.UTF8.GetString(Body)[..^2] + ",\"padding\":\"";
        var body = Encoding.UTF8.GetBytes(head + string.Concat(Enumerable.Repeat("\\\"", (size - head.Length - 3) / 2)) + new string('x', (size - head.Length - 3) % 2) + "\"}}");
        Assert.Equal(size, body.Length);

        var output = await Function().RunAsync(Request("POST", body, Sign(body)), default);

        Assert.Equal(expected, output.StatusCode);
        Assert.Equal(expected == HttpStatusCode.Accepted ? 1 : 0, Stored().Count);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("HEAD")]
    [InlineData("OPTIONS")]
    [InlineData("PUT")]
    public async Task Answers_405_with_Allow_POST_to_other_methods(string method)
    {
        var output = await Function().RunAsync(Request(method, [], null), default);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, output.StatusCode);
        Assert.Equal("POST", output.Headers.GetValues("Allow").Single());
        Assert.Empty(Stored());
    }

    [Fact]
    public async Task Answers_503_not_stored_when_the_event_cannot_be_stored_so_dbt_retries()
    {
        var output = await Function(new UnreachableStore()).RunAsync(Request("POST", Body, Sign(Body)), default);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, output.StatusCode);
        Assert.Contains("\"not_stored\"", ResponseText(output));
    }

    /// <summary>A storage account that cannot be reached, as the Azure SDK reports it.</summary>
    private sealed class UnreachableStore : IAcceptedEventStore
    {
        public ValueTask StoreAsync(Accepted accepted, CancellationToken cancellationToken) =>
            throw new Azure.RequestFailedException(0, "No connection could be made: the storage account is unreachable.");
    }
}
