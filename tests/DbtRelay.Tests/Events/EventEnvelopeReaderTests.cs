using System.Text;
using System.Text.Json;
using DbtRelay.Events;

namespace DbtRelay.Tests.Events;

public sealed class EventEnvelopeReaderTests
{
    private static readonly EventEnvelope Full = new()
    {
        EventId = "wev_full",
        EventType = "job.run.errored",
        Webhook = "prod",
        ReceivedAt = new DateTimeOffset(2026, 11, 23, 10, 15, 32, 123, TimeSpan.Zero),
        AccountId = 42,
        JobId = "123",
        RunId = "9001",
        EnvironmentId = "456",
        ProjectId = "789",
        RunStatus = "Error",
        RunStatusCode = 20,
        TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        BodyLeading = "\n ",
        BodyTrailing = "\t",
        Body = Encoding.UTF8.GetBytes("""{"eventId":"wev_full","data":{"note":"naïve \"quoted\" 😀 {}}","list":[1,{"a":null}]}}"""),
    };

    private static EventEnvelope ThroughSerializer(byte[] message) =>
        RawJsonObjectConverter.Read(message, EventJson.Context.EventEnvelope)!;

    [Fact]
    public void Writes_the_body_last_and_reads_every_field_back_as_the_serializer_does()
    {
        var message = EventJson.Serialize(Full);

        Assert.EndsWith(Encoding.UTF8.GetString(Full.Body.Span) + "}", Encoding.UTF8.GetString(message), StringComparison.Ordinal);
        var fast = EventEnvelopeReader.TryRead(message);
        Assert.NotNull(fast);
        Assert.Equal(Encoding.UTF8.GetString(message), Encoding.UTF8.GetString(EventJson.Serialize(fast)));
        Assert.Equal(Encoding.UTF8.GetString(message), Encoding.UTF8.GetString(EventJson.Serialize(ThroughSerializer(message))));
        Assert.Equal(Full.SignedBody(), fast.SignedBody());
    }

    [Fact]
    public void Reads_fields_it_does_not_know_escaped_names_and_whitespace_around_the_message()
    {
        var message = Encoding.UTF8.GetBytes("""
             { "v": 3, "future": {"nested": [1, 2, {"x": "}"}]}, "\u0065ventId": "wev_esc", "eventType": "job.run.started",
              "webhook": "prod", "receivedAt": "2026-11-23T10:00:00+00:00", "jobId": null,
              "body": { "eventId": "wev_esc" } }

            """);

        var envelope = EventEnvelopeReader.TryRead(message);

        Assert.NotNull(envelope);
        Assert.Equal("wev_esc", envelope.EventId);
        Assert.Null(envelope.JobId);
        Assert.Equal("""{ "eventId": "wev_esc" }""", Encoding.UTF8.GetString(envelope.Body.Span));
    }

    [Theory]
    [InlineData("version 2: the body before the trace",
        """{"v":2,"eventId":"wev_old","eventType":"job.run.completed","webhook":"prod","receivedAt":"2026-11-23T10:00:00+00:00","body":{"eventId":"wev_old"},"traceParent":"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}""")]
    [InlineData("version 1: the body as a string",
        """{"v":1,"eventId":"wev_old","eventType":"job.run.completed","webhook":"prod","receivedAt":"2026-11-23T10:00:00+00:00","body":"{\"eventId\":\"wev_old\"}"}""")]
    public void Reads_what_earlier_versions_queued_through_the_serializer(string why, string json)
    {
        var message = Encoding.UTF8.GetBytes(json);

        Assert.Null(EventEnvelopeReader.TryRead(message));
        var envelope = EventJson.DeserializeEnvelope(message);
        Assert.True(envelope.EventId == "wev_old", why);
        Assert.Equal("""{"eventId":"wev_old"}""", Encoding.UTF8.GetString(envelope.Body.Span));
    }

    [Theory]
    [InlineData("""{"v":3,"eventId":7,"eventType":"job.run.completed","webhook":"prod","receivedAt":"2026-11-23T10:00:00+00:00","body":{}}""")]
    [InlineData("""{"v":3,"eventType":"job.run.completed","webhook":"prod","receivedAt":"2026-11-23T10:00:00+00:00","body":{}}""")]
    [InlineData("""{"v":3,"eventId":"wev_x","eventType":"job.run.completed","webhook":"prod","receivedAt":"yesterday","body":{}}""")]
    [InlineData("""{"v":3,"eventId":"wev_x","eventType":"job.run.completed","webhook":"prod","receivedAt":"2026-11-23T10:00:00+00:00","body":{}""")]
    public void A_message_that_is_not_a_whole_envelope_is_refused_by_the_serializer_with_its_reason(string json)
    {
        var message = Encoding.UTF8.GetBytes(json);

        Assert.Null(EventEnvelopeReader.TryRead(message));
        Assert.Throws<JsonException>(() => EventJson.DeserializeEnvelope(message));
    }
}
