
namespace DbtRelay.Tests.Cli;

/// <summary><c>dbt-relay webhooks</c> as a process against a fake dbt Cloud API v3 on loopback.</summary>
public sealed class WebhooksCommandTests : IAsyncLifetime
{
    private const string Token = "dbtc_service_token_123";
    private readonly FakeDbtCloudWebhooks _dbt = new(Token, 4242);
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-webhooks-").FullName;

    private Task<(int Exit, string Out, string Err)> RunAsync(string? token, params string[] arguments) =>
        ServeProcess.RunCliAsync(_folder, token is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["DBT_CLOUD_API_TOKEN"] = token },
            ["webhooks", .. arguments]);

    private string[] Create(string secretFile, params string[] more) =>
    [
        "create", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242", "--name", "Relay prod",
        "--endpoint", "https://relay.example.net/api/dbt/webhook", "--event", "completed", "--event", "errored", "--job", "123",
        "--secret-out", Path.Combine(_folder, secretFile), .. more,
    ];

    [Fact]
    public async Task Create_stores_the_signing_secret_where_asked_never_prints_it_and_a_second_run_creates_nothing()
    {
        var first = await RunAsync(Token, Create("secret.txt"));
        var second = await RunAsync(Token, Create("secret-again.txt"));

        Assert.Equal(0, first.Exit);
        Assert.Equal(FakeDbtCloudWebhooks.HmacSecret, await File.ReadAllTextAsync(Path.Combine(_folder, "secret.txt")));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_folder, "secret.txt")));
        Assert.DoesNotContain(FakeDbtCloudWebhooks.HmacSecret, first.Out + first.Err + second.Out + second.Err, StringComparison.Ordinal);
        Assert.DoesNotContain(Token, first.Out + first.Err, StringComparison.Ordinal);
        Assert.Contains("""{ "name": "relay-prod", "secret": "dbt-webhook-relay-prod" }""", first.Out, StringComparison.Ordinal);
        var subscription = Assert.Single(_dbt.Subscriptions.Values);
        Assert.Equal("""["job.run.completed","job.run.errored"]""", subscription["event_types"]!.ToJsonString());
        Assert.Equal("""["123"]""", subscription["job_ids"]!.ToJsonString());
        Assert.Equal(0, second.Exit);
        Assert.Contains("exists already", second.Out, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "secret-again.txt")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Create_reads_every_page_of_subscriptions_before_deciding_one_exists_and_list_shows_them_all(bool totalCountAsText)
    {
        _dbt.MaxPageSize = 10; // as dbt Cloud's default page
        _dbt.TotalCountAsText = totalCountAsText;
        for (var i = 1; i <= 24; i++)
        {
            var id = $"wsu_{i:D6}";
            _dbt.Subscriptions[id] = new System.Text.Json.Nodes.JsonObject
            {
                ["id"] = id, ["name"] = $"other {i}", ["event_types"] = new System.Text.Json.Nodes.JsonArray("job.run.completed"),
                ["client_url"] = i == 24 ? "https://relay.example.net/api/dbt/webhook" : $"https://elsewhere.example.net/{i}",
                ["job_ids"] = new System.Text.Json.Nodes.JsonArray(), ["active"] = true,
            };
        }

        var create = await RunAsync(Token, Create("secret.txt"));
        var list = await RunAsync(Token, ["list", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242"]);

        Assert.Equal(0, create.Exit);
        Assert.Contains("exists already: wsu_000024", create.Out, StringComparison.Ordinal); // found on the third page
        Assert.Equal(24, _dbt.Subscriptions.Count);
        Assert.False(File.Exists(Path.Combine(_folder, "secret.txt")));
        Assert.Equal(0, list.Exit);
        Assert.All(Enumerable.Range(1, 24), i => Assert.Contains($"wsu_{i:D6}", list.Out, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("taken.txt")]             // an existing file
    [InlineData(".")]                     // a folder
    [InlineData("no-such-folder/s.txt")]  // a folder that does not exist
    public async Task Create_refuses_a_secret_file_it_cannot_create_before_it_creates_anything(string secretFile)
    {
        await File.WriteAllTextAsync(Path.Combine(_folder, "taken.txt"), "something else");

        var create = await RunAsync(Token, Create(secretFile));

        Assert.Equal(2, create.Exit);
        Assert.Contains("Nothing created; choose a new file", create.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", create.Err, StringComparison.Ordinal);
        Assert.Empty(_dbt.Subscriptions);
        Assert.Equal("something else", await File.ReadAllTextAsync(Path.Combine(_folder, "taken.txt")));
    }

    [Fact]
    public async Task The_dbt_token_is_not_sent_over_plain_http_to_another_machine()
    {
        var list = await RunAsync(Token, ["list", "--access-url", "http://cloud.example.test", "--account-id", "4242"]);

        Assert.Equal(2, list.Exit);
        Assert.Contains("Not sending the dbt Cloud token to http://cloud.example.test over plain http", list.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Update_changes_the_existing_subscription_instead_of_adding_one()
    {
        await RunAsync(Token, Create("secret.txt"));

        var updated = await RunAsync(Token, [.. Create("unused.txt"), "--update", "--job", "456"]);

        Assert.Equal(0, updated.Exit);
        Assert.Contains("""["123","456"]""", Assert.Single(_dbt.Subscriptions.Values)["job_ids"]!.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_test_and_delete_work_on_the_subscription_by_id()
    {
        await RunAsync(Token, Create("secret.txt"));
        var id = Assert.Single(_dbt.Subscriptions.Keys);
        var scope = new[] { "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242" };

        var list = await RunAsync(Token, ["list", .. scope]);
        var test = await RunAsync(Token, ["test", id, .. scope]);
        var delete = await RunAsync(Token, ["delete", id, .. scope]);

        Assert.Contains($"{id}  Relay prod  active", list.Out, StringComparison.Ordinal);
        Assert.Contains("\"verification_status\":\"success\"", test.Out, StringComparison.Ordinal);
        Assert.Equal(0, delete.Exit);
        Assert.Empty(_dbt.Subscriptions);
    }

    [Theory]
    [InlineData("wrong-token", "4242", "refused the token (401)")]
    [InlineData(Token, "9999", "no such account or subscription (404)")]
    [InlineData(null, "4242", "Set DBT_CLOUD_API_TOKEN")]
    public async Task A_refusal_is_one_clear_sentence_and_exit_code_2(string? token, string account, string expected)
    {
        var (exit, output, error) = await RunAsync(token, "list", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", account);

        Assert.Equal(2, exit);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output + error, StringComparison.Ordinal);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _dbt.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task List_shows_each_subscriptions_last_delivery_and_warns_about_one_dbt_deactivated()
    {
        _dbt.Subscriptions["wsu_live"] = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "wsu_live", ["name"] = "relay", ["event_types"] = new System.Text.Json.Nodes.JsonArray("job.run.completed"),
            ["client_url"] = "https://relay.example.net/api/dbt/webhook", ["job_ids"] = new System.Text.Json.Nodes.JsonArray(), ["active"] = true,
            ["http_status_code"] = "202", ["dispatched_at"] = "2026-12-07T05:00:00.000Z",
        };
        _dbt.Subscriptions["wsu_dead"] = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "wsu_dead", ["name"] = "old relay", ["event_types"] = new System.Text.Json.Nodes.JsonArray("job.run.completed"),
            ["client_url"] = "https://old.example.net/api/dbt/webhook", ["job_ids"] = new System.Text.Json.Nodes.JsonArray(), ["active"] = false,
            ["http_status_code"] = "503", ["dispatched_at"] = "2026-12-06T23:10:00.000Z",
        };

        var (exit, output, error) = await RunAsync(Token, "list", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242");

        Assert.Equal(0, exit);
        Assert.Contains("wsu_live  relay  active  job.run.completed  jobs []  → https://relay.example.net/api/dbt/webhook  (last delivery 2026-12-07T05:00:00.000Z: HTTP 202)", output, StringComparison.Ordinal);
        Assert.Contains("warning: wsu_dead (old relay) is inactive: dbt Cloud deactivates a subscription after 5 failed deliveries in a row (its last answer was HTTP 503)", error, StringComparison.Ordinal);
        Assert.DoesNotContain("wsu_live", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, "202", 0, "ok: wsu_mine (relay) is active; last delivery 2026-12-07T05:00:00.000Z got HTTP 202.")]
    [InlineData(true, null, 0, "ok: wsu_mine (relay) is active; no delivery yet")]
    [InlineData(true, "503", 2, "error: wsu_mine (relay) is active, but its last delivery (2026-12-07T05:00:00.000Z) got HTTP 503")]
    [InlineData(false, "503", 2, "error: wsu_mine (relay) is inactive: dbt Cloud turned it off (5 failed deliveries in a row, the last answered HTTP 503)")]
    public async Task Doctor_says_whether_dbt_cloud_still_sends_this_relay_its_events(bool active, string? lastStatus, int expectedExit, string expected)
    {
        _dbt.Subscriptions["wsu_mine"] = new System.Text.Json.Nodes.JsonObject
        {
            ["id"] = "wsu_mine", ["name"] = "relay", ["event_types"] = new System.Text.Json.Nodes.JsonArray("job.run.completed"),
            ["client_url"] = "https://relay.example.net/api/dbt/webhook", ["job_ids"] = new System.Text.Json.Nodes.JsonArray(), ["active"] = active,
            ["http_status_code"] = lastStatus, ["dispatched_at"] = lastStatus is null ? null : "2026-12-07T05:00:00.000Z",
        };

        var (exit, output, error) = await RunAsync(Token, "doctor", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242",
            "--endpoint", "https://relay.example.net/api/dbt/webhook/");

        Assert.Equal(expectedExit, exit);
        Assert.Contains(expected, expectedExit == 0 ? output : error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Doctor_fails_when_no_subscription_sends_to_the_endpoint()
    {
        var (exit, _, error) = await RunAsync(Token, "doctor", "--access-url", _dbt.BaseUrl.ToString(), "--account-id", "4242", "--endpoint", "https://nowhere.example.net/api/dbt/webhook");

        Assert.Equal(2, exit);
        Assert.Contains("no subscription sends to https://nowhere.example.net/api/dbt/webhook", error, StringComparison.Ordinal);
    }
}
