using System.Text;
using System.Text.Json;
using DbtRelay.Events;
using DbtRelay.InProcess;
using DbtRelay.Tests.Fakes;
using DbtRelay.Webhooks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DbtRelay.Tests.Webhooks;

public sealed class WebhookIntakeTests
{
    private const string ProdSecret = "prod-secret-4f1c9a";
    private const string StagingSecret = "staging-secret-77aa";
    private readonly LogCapture _logs = new();
    private readonly ManualTimeProvider _time = new();

    private WebhookIntake Intake(params WebhookSecret[] secrets) =>
        new(new StaticWebhookSecrets(secrets), new InMemoryRelayQueues(_time), Options.Create(new IntakeOptions()), _time, _logs.For<WebhookIntake>());

    private WebhookIntake TwoSecrets() => Intake(new("prod", ProdSecret), new("staging", StagingSecret));

    [Theory]
    [InlineData(-6 * 24.0, 202, null)]                    // days late: still inside the window
    [InlineData(-8 * 24.0, 400, "stale_event")]           // older than Intake__MaxEventAge (7 days)
    [InlineData(0.5, 202, null)]                          // a clock a little ahead
    [InlineData(2.0, 400, "timestamp_in_future")]         // more than an hour ahead
    public async Task The_signed_timestamp_must_be_within_the_window(double hoursFromNow, int status, string? error)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(timestamp: _time.GetUtcNow().AddHours(hoursFromNow)));

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        Assert.Equal(status, decision.StatusCode);
        if (error is not null) Assert.Equal(error, ((Rejected)decision).Error);
    }

    [Fact]
    public async Task A_captured_event_replayed_after_the_window_is_refused_and_told_to_use_redeliver()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(timestamp: _time.GetUtcNow()));
        var intake = TwoSecrets();
        Assert.IsType<Accepted>(await intake.DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        _time.Advance(TimeSpan.FromDays(31)); // past the 30 days in which the event id is remembered
        var replay = Assert.IsType<Rejected>(await intake.DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Equal((400, "stale_event"), (replay.StatusCode, replay.Error));
        Assert.Contains("use redeliver", JsonDocument.Parse(replay.ResponseBody()).RootElement.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("its timestamp", _logs.AllText, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("1732270532")]
    [InlineData("null")]
    public async Task A_timestamp_that_is_not_a_time_is_a_400(string timestamp)
    {
        var body = DbtPayloads.Bytes($$$"""{"eventId":"wev_t","eventType":"job.run.completed","timestamp":{{{timestamp}}},"data":{}}""");

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        Assert.Equal((400, "invalid_timestamp"), (decision.StatusCode, ((Rejected)decision).Error));
    }

    [Fact]
    public async Task Accepts_a_signed_dbt_event_and_builds_the_envelope_from_it()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_abc", jobId: "123"));

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        var accepted = Assert.IsType<Accepted>(decision);
        Assert.Equal(202, accepted.StatusCode);
        Assert.Equal("wev_abc", accepted.Envelope.EventId);
        Assert.Equal("job.run.completed", accepted.Envelope.EventType);
        Assert.Equal("prod", accepted.Envelope.Webhook);
        Assert.Equal("123", accepted.Envelope.JobId);
        Assert.Equal(10, accepted.Envelope.RunStatusCode);
        Assert.Equal(_time.GetUtcNow(), accepted.Envelope.ReceivedAt);
        using var answer = JsonDocument.Parse(accepted.ResponseBody());
        Assert.Equal("wev_abc", answer.RootElement.GetProperty("eventId").GetString());
        Assert.Equal("accepted", answer.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task The_queue_message_carries_the_signed_body_byte_for_byte()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed() + "\n  ");

        var accepted = Assert.IsType<Accepted>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        var roundTripped = EventJson.DeserializeEnvelope(accepted.QueueMessage);
        Assert.Equal(body, roundTripped.SignedBody());
        Assert.Equal(WebhookSignature.Compute(Encoding.UTF8.GetBytes(ProdSecret), body),
            WebhookSignature.Compute(Encoding.UTF8.GetBytes(ProdSecret), roundTripped.SignedBody()));
    }

    [Fact]
    public async Task Records_which_of_several_secrets_matched()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(StagingSecret, body), default);

        Assert.Equal("staging", Assert.IsType<Accepted>(decision).Envelope.Webhook);
    }

    [Fact]
    public async Task Accepts_an_uppercase_hex_signature()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body).ToUpperInvariant(), default);

        Assert.IsType<Accepted>(decision);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer abc")]
    public async Task Rejects_a_missing_or_malformed_signature_with_401(string? authorization)
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await TwoSecrets().DecideAsync(body, authorization, default);

        var rejected = Assert.IsType<Rejected>(decision);
        Assert.Equal(401, rejected.StatusCode);
        Assert.Equal("invalid_signature", JsonDocument.Parse(rejected.ResponseBody()).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Rejects_a_body_signed_with_another_secret_and_logs_fingerprints_never_secrets()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign("some-other-secret", body), default);

        Assert.Equal(401, decision.StatusCode);
        var warning = Assert.Single(_logs.Entries, e => e.Level == LogLevel.Warning);
        Assert.Contains(WebhookSignature.Fingerprint(Encoding.UTF8.GetBytes(ProdSecret)), warning.Text);
        Assert.Contains(WebhookSignature.Fingerprint(Encoding.UTF8.GetBytes(StagingSecret)), warning.Text);
        Assert.DoesNotContain(ProdSecret, _logs.AllText);
        Assert.DoesNotContain(StagingSecret, _logs.AllText);
        Assert.DoesNotContain(ProdSecret, Encoding.UTF8.GetString(decision.ResponseBody()));
    }

    [Fact]
    public async Task Rejects_valid_json_whose_bytes_differ_from_what_was_signed()
    {
        var signedBody = DbtPayloads.Bytes(DbtPayloads.Completed());
        // Same JSON value, different whitespace: a relay that re-serialized before verifying would accept this.
        var sentBody = JsonSerializer.SerializeToUtf8Bytes(JsonDocument.Parse(signedBody).RootElement);
        Assert.NotEqual(signedBody, sentBody);

        var decision = await TwoSecrets().DecideAsync(sentBody, DbtPayloads.Sign(ProdSecret, signedBody), default);

        Assert.Equal(401, decision.StatusCode);
    }

    [Fact]
    public async Task Fails_closed_with_503_when_no_secret_is_configured()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await Intake().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        Assert.Equal(503, decision.StatusCode);
        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Error);
    }

    [Theory]
    [InlineData("not json at all", "invalid_json")]
    [InlineData("[1,2,3]", "not_an_object")]
    [InlineData("""{"eventType":"job.run.completed","data":{}}""", "not_a_dbt_event")]
    [InlineData("""{"eventId":"wev_1","data":{}}""", "not_a_dbt_event")]
    [InlineData("""{"eventId":"wev_1","eventType":"job.run.completed"}""", "not_a_dbt_event")]
    [InlineData("""{"eventId":"wev_1","eventType":"job.run.completed","data":"x"}""", "data_not_object")]
    [InlineData("""{"eventId":"wev_1","eventType":"job.run.completed","data":{}""", "invalid_json")]
    public async Task Rejects_a_signed_body_that_is_not_a_dbt_event_with_400_naming_the_problem(string json, string error)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        var rejected = Assert.IsType<Rejected>(decision);
        Assert.Equal(400, rejected.StatusCode);
        Assert.Equal(error, rejected.Error);
    }

    [Fact]
    public async Task The_400_names_every_missing_field()
    {
        var body = "{\"data\":{}}"u8.ToArray();

        var rejected = Assert.IsType<Rejected>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Contains("eventId", rejected.Message);
        Assert.Contains("eventType", rejected.Message);
    }

    [Fact]
    public async Task Accepts_unknown_event_types_and_unknown_fields()
    {
        var body = Encoding.UTF8.GetBytes("""
            {"eventId":"wev_x","eventType":"job.run.queued","newTopLevel":{"a":[1,2]},"data":{"jobId":42,"future":true}}
            """);

        var accepted = Assert.IsType<Accepted>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Equal("job.run.queued", accepted.Envelope.EventType);
        Assert.Equal("42", accepted.Envelope.JobId);
        Assert.Null(accepted.Envelope.RunStatusCode);
    }

    [Fact]
    public async Task Derives_the_status_code_from_the_status_name_when_the_code_is_absent()
    {
        var body = Encoding.UTF8.GetBytes("""{"eventId":"wev_y","eventType":"job.run.errored","data":{"runStatus":"Errored"}}""");

        var accepted = Assert.IsType<Accepted>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Equal(DbtRunStatus.Error, accepted.Envelope.RunStatusCode);
    }

    [Theory]
    [MemberData(nameof(MalformedBodies.All), MemberType = typeof(MalformedBodies))]
    public async Task Answers_400_to_every_signed_body_that_is_not_exactly_one_strict_json_object(string why, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        var rejected = Assert.IsType<Rejected>(decision);
        Assert.True(rejected.StatusCode == 400, $"{why}: {rejected.StatusCode} {rejected.Message}");
    }

    [Theory]
    [InlineData("a surrogate pair", "{\"eventId\":\"wev_\\ud83d\\ude00\",\"eventType\":\"job.run.completed\",\"data\":{}}")]
    [InlineData("whitespace around the object", "\r\n {\"eventId\":\"wev_w\",\"eventType\":\"job.run.completed\",\"data\":{}}\n\t")]
    public async Task Accepts_what_a_strict_json_parser_accepts(string why, string json)
    {
        var body = Encoding.UTF8.GetBytes(json);

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        Assert.True(decision is Accepted, $"{why}: {decision.StatusCode}");
        Assert.Equal(body, EventJson.DeserializeEnvelope(((Accepted)decision).QueueMessage).SignedBody());
    }

    [Fact]
    public async Task Refuses_ids_one_character_too_long_naming_each_of_them()
    {
        var tooLong = new string('9', DbtEventReader.MaxFieldLength + 1);
        var body = Encoding.UTF8.GetBytes($$$"""{"eventId":"wev_ok","eventType":"job.run.completed","data":{"jobId":"{{{tooLong}}}","runStatus":"{{{tooLong}}}","runId":"1"}}""");

        var rejected = Assert.IsType<Rejected>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Equal(400, rejected.StatusCode);
        Assert.Equal("field_too_long", rejected.Error);
        Assert.StartsWith("data.jobId, data.runStatus exceeds 256", rejected.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Accepts_ids_of_exactly_the_longest_length()
    {
        var eventId = "wev_" + new string('x', DbtEventReader.MaxFieldLength - 4);
        var body = Encoding.UTF8.GetBytes($$$"""{"eventId":"{{{eventId}}}","eventType":"job.run.completed","data":{"jobId":"{{{new string('9', DbtEventReader.MaxFieldLength)}}}"}}""");

        var accepted = Assert.IsType<Accepted>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.Equal(eventId, accepted.Envelope.EventId);
    }

    /// <summary>A valid event of exactly <paramref name="size"/> bytes, padded with a field full of escaped quotes.</summary>
    private static byte[] EventOfSize(int size)
    {
        var head = "{\"eventId\":\"wev_big\",\"eventType\":\"job.run.completed\",\"data\":{\"note\":\"";
        const string Tail = "\"}}";
        var room = size - head.Length - Tail.Length;
        var padding = string.Concat(Enumerable.Repeat("\\\"", room / 2)) + new string('x', room % 2);
        var body = Encoding.UTF8.GetBytes(head + padding + Tail);
        Assert.Equal(size, body.Length);
        return body;
    }

    [Fact]
    public async Task Accepts_a_valid_event_of_exactly_the_documented_limit_whatever_it_holds()
    {
        // Quotes would double if the body were escaped into the envelope; carried as JSON it keeps its size.
        var body = EventOfSize(IntakeOptions.DefaultMaxBodyBytes);

        var accepted = Assert.IsType<Accepted>(await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default));

        Assert.True(accepted.QueueMessage.Length < new IntakeOptions().MaxEnvelopeBytes, $"{accepted.QueueMessage.Length} bytes queued");
        Assert.Equal(body, EventJson.DeserializeEnvelope(accepted.QueueMessage).Body.ToArray());
    }

    [Fact]
    public async Task Refuses_a_body_one_byte_over_the_limit_with_413()
    {
        var body = EventOfSize(IntakeOptions.DefaultMaxBodyBytes + 1);

        var decision = await TwoSecrets().DecideAsync(body, DbtPayloads.Sign(ProdSecret, body), default);

        Assert.Equal(413, decision.StatusCode);
        Assert.Contains("48 KiB", Encoding.UTF8.GetString(decision.ResponseBody()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Picks_up_a_rotated_secret_when_the_provider_refreshes_after_a_mismatch()
    {
        var provider = new RotatingSecrets(new WebhookSecret("prod", "old-secret"), new WebhookSecret("prod", "new-secret"));
        var intake = new WebhookIntake(provider, new InMemoryRelayQueues(_time), Options.Create(new IntakeOptions()), _time, _logs.For<WebhookIntake>());
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());

        var decision = await intake.DecideAsync(body, DbtPayloads.Sign("new-secret", body), default);

        Assert.IsType<Accepted>(decision);
        Assert.Equal(1, provider.Refreshes);
    }

    private sealed class RotatingSecrets(WebhookSecret before, WebhookSecret after) : IWebhookSecretProvider
    {
        public int Refreshes { get; private set; }
        public IReadOnlyList<WebhookSecret> Current { get; private set; } = [before];

        public ValueTask<bool> RefreshAfterMismatchAsync(IReadOnlyList<WebhookSecret> snapshot, CancellationToken cancellationToken)
        {
            Refreshes++;
            Current = [after];
            return ValueTask.FromResult(true);
        }
    }
}
