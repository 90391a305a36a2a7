using System.Net;
using System.Net.Sockets;

namespace DbtRelay.Tests.Cli;

/// <summary>
/// The first hour of a new user, with the CLI as a process in an empty folder: the demo delivers, init writes a
/// relay.json that check accepts, and every mistake gets one or two lines and exit code 2, never a stack trace.
/// </summary>
public sealed class FirstHourTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-first-hour-").FullName;

    [Fact]
    public async Task With_no_relay_json_serve_runs_a_demo_whose_first_send_is_delivered_to_its_own_sink()
    {
        await using var serve = await ServeProcess.StartAsync(null, ["--in-memory"],
            new Dictionary<string, string> { ["Logging__LogLevel__DbtRelay"] = "Information" }, _folder);

        var send = await ServeProcess.RunCliAsync(_folder, null, "send", "--url", serve.Webhook.ToString());
        using var http = new HttpClient();
        var sink = new Uri(serve.Webhook, "/api/demo/sink");
        await Eventually.True(async () => (await http.GetStringAsync(sink)).Contains("wev_", StringComparison.Ordinal));

        Assert.Equal(0, send.Exit);
        Assert.StartsWith("202", send.Out, StringComparison.Ordinal);
        Assert.Contains("running the demo", serve.Output, StringComparison.Ordinal);
        Assert.Contains("dbt-webhook-demo (webhook demo): loaded", serve.Output, StringComparison.Ordinal);
        await Eventually.True(() => serve.Output.Contains("Demo sink received wev_", StringComparison.Ordinal) && serve.Output.Contains("Delivered wev_", StringComparison.Ordinal));
        Assert.DoesNotContain("Dead-lettered", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warning:", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_takes_the_relays_base_url_and_says_which_path_answers_when_given_another()
    {
        await using var serve = await ServeProcess.StartAsync(null, ["--in-memory"], new Dictionary<string, string>(), _folder);
        var root = serve.Webhook.GetLeftPart(UriPartial.Authority);

        var toBase = await ServeProcess.RunCliAsync(_folder, null, "send", "--url", root);
        var toSlash = await ServeProcess.RunCliAsync(_folder, null, "send", "--url", root + "/");
        var elsewhere = await ServeProcess.RunCliAsync(_folder, null, "send", "--url", root + "/api/webhook");

        Assert.Equal((0, 0), (toBase.Exit, toSlash.Exit));
        Assert.StartsWith("202", toBase.Out, StringComparison.Ordinal);
        Assert.StartsWith("202", toSlash.Out, StringComparison.Ordinal);
        Assert.Equal(1, elsewhere.Exit);
        Assert.StartsWith("404", elsewhere.Out, StringComparison.Ordinal);
        Assert.Contains($"the relay's webhook is {root}/api/dbt/webhook", elsewhere.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_writes_a_relay_json_that_check_accepts_lists_its_secrets_and_never_overwrites()
    {
        var init = await ServeProcess.RunCliAsync(_folder, null, "init", "--target", "rudderstack-retl", "--target", "dbt-cloud-job");
        var check = await ServeProcess.RunCliAsync(_folder, null, "check");
        var strict = await ServeProcess.RunCliAsync(_folder, null, "check", "--strict");
        var again = await ServeProcess.RunCliAsync(_folder, null, "init");

        Assert.Equal(0, init.Exit);
        // Valid, but nothing real would be called yet: check says which values are init's placeholders.
        Assert.Contains("warning: $.targets.rudderstack-retl.connectionId is still init's placeholder (YOUR_REVERSE_ETL_CONNECTION_ID)", check.Out, StringComparison.Ordinal);
        Assert.Contains("accountId and jobId are still init's placeholders (1 and 1)", check.Out, StringComparison.Ordinal);
        Assert.Equal(2, strict.Exit);
        Assert.Contains("error: $.targets.rudderstack-retl.connectionId is still init's placeholder", strict.Err, StringComparison.Ordinal);
        Assert.Contains("export Secrets__rudderstack_token=", init.Out, StringComparison.Ordinal);
        Assert.Contains("export Secrets__dbt_webhook_prod=", init.Out, StringComparison.Ordinal);
        Assert.Equal(0, check.Exit);
        Assert.Contains("OK — 1 webhook(s), 2 target(s), 1 route(s)", check.Out, StringComparison.Ordinal);
        Assert.Equal(2, again.Exit);
        Assert.Contains("never overwrites", again.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_print_writes_a_payload_and_signature_that_check_and_the_intake_accept()
    {
        await ServeProcess.RunCliAsync(_folder, null, "init");

        var printed = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["Secrets__dbt_webhook_prod"] = "p" }, "send", "--print");
        await File.WriteAllTextAsync(Path.Combine(_folder, "payload.json"), printed.Out);
        var check = await ServeProcess.RunCliAsync(_folder, null, "check", "--event", "payload.json");

        Assert.Equal(0, printed.Exit);
        Assert.Equal($"Authorization: {DbtPayloads.Sign("p", DbtPayloads.Bytes(printed.Out))}", printed.Err.Trim());
        Assert.Equal(0, check.Exit);
        Assert.Contains("fires   after-success", check.Out, StringComparison.Ordinal);
        // Written for people: the timestamp's '+' and the quotes around a name as they are, not \u002B and \u0022.
        Assert.DoesNotContain("\\u00", printed.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u00", await File.ReadAllTextAsync(Path.Combine(_folder, "relay.json")), StringComparison.Ordinal);
    }

    public static TheoryData<string, string[], string> Mistakes => new()
    {
        { "check without relay.json", ["check"], "No relay.json in" },
        { "a missing payload file", ["send", "--file", "nope.json"], "Cannot read the payload" },
        { "a missing event file", ["check", "--config", "relay.json", "--event", "nope.json"], "Cannot read the event" },
        { "a missing config file", ["check", "--config", "missing.json"], "cannot be read" },
        { "a URL that is not one", ["send", "--url", "notaurl"], "is not an http(s) URL" },
        { "two stores at once", ["serve", "--in-memory", "--data", "x.db"], "Choose one store" },
        { "a Key Vault that is not a URL", ["serve", "--in-memory", "--key-vault", "my-vault"], "--key-vault my-vault is not an http(s) URL" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task Each_mistake_gets_a_short_message_and_exit_code_2_without_a_stack_trace(string why, string[] arguments, string message)
    {
        if (arguments.Contains("relay.json")) await ServeProcess.RunCliAsync(_folder, null, "init");

        var (exit, output, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["Secrets__dbt_webhook_demo"] = "x" }, arguments);

        Assert.True(exit == 2, $"{why}: exit {exit}");
        Assert.Contains(message, output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_in_use_is_two_lines_naming_the_address_and_the_way_out()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";

        var (exit, output, error) = await ServeProcess.RunCliAsync(_folder, null, "serve", "--in-memory", "--urls", url);

        Assert.Equal(2, exit);
        Assert.Contains($"Cannot listen on {url}: the address is in use", error, StringComparison.Ordinal);
        Assert.Contains("--urls", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Json_logs_are_one_object_per_line_banner_included_with_the_event_fields_and_durations_in_ms(bool flag)
    {
        var environment = new Dictionary<string, string> { ["Logging__LogLevel__DbtRelay"] = "Information" };
        if (!flag) environment["Logging__Console__FormatterName"] = "json";
        await using var serve = await ServeProcess.StartAsync(null, flag ? ["--in-memory", "--log-format", "json"] : ["--in-memory"], environment, _folder);

        await ServeProcess.RunCliAsync(_folder, null, "send", "--url", serve.Webhook.ToString());
        await Eventually.True(() => serve.Output.Contains("\"Category\":\"DbtRelay.Delivery.DeliveryExecutor\"", StringComparison.Ordinal));

        var lines = serve.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var objects = lines.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList(); // throws on any other line
        Assert.Contains(objects, o => o.GetProperty("Category").GetString() == "DbtRelay.Cli.Banner");
        var delivered = objects.Single(o => o.GetProperty("Category").GetString() == "DbtRelay.Delivery.DeliveryExecutor");
        var scope = delivered.GetProperty("Scopes").EnumerateArray().Single(s => s.TryGetProperty("Target", out _));
        Assert.Equal("demo-sink", scope.GetProperty("Target").GetString());
        Assert.StartsWith("wev_", scope.GetProperty("EventId").GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Text.Json.JsonValueKind.Number, delivered.GetProperty("State").GetProperty("DurationMs").ValueKind);
        Assert.DoesNotContain("Dictionary`2", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_valid_key_vault_url_is_accepted_by_the_command_line()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();

        // Stops at the port check, after the options were read: the URL parsed.
        var (exit, output, error) = await ServeProcess.RunCliAsync(_folder, null, "serve", "--in-memory", "--key-vault", "https://relay.vault.azure.net/",
            "--urls", $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}");

        Assert.Equal(2, exit);
        Assert.Contains("the address is in use", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_key_is_not_sent_over_plain_http_to_another_machine()
    {
        var (exit, output, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = "k-123" },
            "events", "--url", "http://relay.example.test:7071");

        Assert.Equal(2, exit);
        Assert.Contains("Not sending the admin key to http://relay.example.test:7071 over plain http", error, StringComparison.Ordinal);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task The_admin_key_does_not_follow_a_redirect()
    {
        await using var elsewhere = new FakeHttpEndpoint();
        await using var redirecting = new FakeHttpEndpoint();
        redirecting.Script(new ScriptedAnswer(307) { Location = new Uri(elsewhere.BaseUrl, "api/events") });

        var (exit, _, error) = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["DBT_RELAY_ADMIN_KEY"] = "k-123" },
            "events", "--url", redirecting.BaseUrl.ToString());

        Assert.Equal(2, exit);
        Assert.Empty(elsewhere.Received);
        Assert.Contains($"answered 307, a redirect to {elsewhere.BaseUrl.GetLeftPart(UriPartial.Authority)}; not following it with the key", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_demo_sink_keeps_a_summary_of_small_bodies_and_exists_only_where_a_target_calls_it()
    {
        await using var demo = await ServeProcess.StartAsync(null, ["--in-memory"], new Dictionary<string, string> { ["Logging__LogLevel__DbtRelay"] = "Information" }, _folder);
        using var http = new HttpClient();
        var sink = new Uri(demo.Webhook, "/api/demo/sink");

        using var large = await http.PostAsync(sink, new ByteArrayContent(new byte[20 * 1024]));
        using var small = await http.PostAsync(sink, new StringContent("""{"eventId":"wev_sink","runStatus":"Success","token":"kept-nowhere"}"""));
        using var forged = await http.PostAsync(sink, new StringContent("""{"eventId":"wev_x\nfail: DbtRelay.Delivery.DeliveryExecutor[3003]\n      Dead-lettered FORGED"}"""));
        var listed = await http.GetStringAsync(sink);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Contains("wev_sink", listed, StringComparison.Ordinal);
        Assert.DoesNotContain("kept-nowhere", listed + demo.Output, StringComparison.Ordinal);
        // A line break in a posted field never starts a log line of its own.
        await Eventually.True(() => demo.Output.Contains("wev_x?fail: DbtRelay.Delivery.DeliveryExecutor[3003]?", StringComparison.Ordinal));
        Assert.DoesNotContain(demo.Output.Split('\n'), line => line.TrimStart().StartsWith("Dead-lettered FORGED", StringComparison.Ordinal));

        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, """
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "hook": { "type": "http", "url": "https://hooks.example.test/run" } },
              "routes": [ { "name": "all", "when": {}, "targets": ["hook"] } ] }
            """);
        await using var real = await ServeProcess.StartAsync(config, ["--in-memory"], new Dictionary<string, string> { ["Secrets__dbt-webhook"] = "s" }, _folder);
        using var none = await http.GetAsync(new Uri(real.Webhook, "/api/demo/sink"));
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task Without_its_webhook_secret_the_banner_says_intake_is_closed_and_events_get_503()
    {
        var config = Path.Combine(_folder, "relay.json");
        await File.WriteAllTextAsync(config, """
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook-prod" } ],
              "targets": { "hook": { "type": "http", "url": "https://hooks.example.test/run", "headers": { "X-Key": "{{secrets.hook-key}}" } } },
              "routes": [ { "name": "all", "when": {}, "targets": ["hook"] } ] }
            """);
        await using var serve = await ServeProcess.StartAsync(config, ["--in-memory"], new Dictionary<string, string>(), _folder);
        var body = DbtPayloads.Bytes(DbtPayloads.Completed());
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, serve.Webhook) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign("anything", body));

        using var answer = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Contains("intake is CLOSED: no webhook secret is loaded, so every event is answered 503 until one is set (2 secret(s) missing)", serve.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("events are accepted", serve.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_with_the_wrong_secret_prints_the_fingerprint_it_signed_with_beside_the_relays()
    {
        await using var serve = await ServeProcess.StartAsync(null, ["--in-memory"], new Dictionary<string, string>(), _folder);

        var send = await ServeProcess.RunCliAsync(_folder, new Dictionary<string, string> { ["Secrets__dbt-webhook-demo"] = "not-the-demo-secret" },
            "send", "--url", serve.Webhook.ToString());

        var used = DbtRelay.Webhooks.WebhookSignature.Fingerprint(System.Text.Encoding.UTF8.GetBytes("not-the-demo-secret"));
        var accepted = DbtRelay.Webhooks.WebhookSignature.Fingerprint(System.Text.Encoding.UTF8.GetBytes("demo-secret-change-me"));
        Assert.Equal(1, send.Exit);
        Assert.StartsWith("401", send.Out, StringComparison.Ordinal);
        Assert.Contains($"Signed with secret dbt-webhook-demo (fingerprint {used})", send.Err, StringComparison.Ordinal);
        Assert.Contains($"fingerprint {accepted}", serve.Output, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
