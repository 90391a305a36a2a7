using DbtRelay.Config;
using DbtRelay.Targets;

namespace DbtRelay.Tests.Config;

public sealed class RelayConfigTests
{
    [Theory]
    [InlineData("{\n  \"webhooks\": [\n    { \"name\": \"prod\", \"secret\": \"s\" },\n  ]\n}", "line 4, position 3: is not valid JSON: a comma before a closing ']' or '}' (JSON allows no trailing comma: remove it)")]
    [InlineData("{\n  // notes\n  \"webhooks\": []\n}", "line 2, position 3: is not valid JSON: a comment (JSON has none: use a \"description\" field)")]
    [InlineData("{\n  \"webhooks\": [\n", "is not valid JSON: the text ends before every '{' and '[' is closed")]
    [InlineData("{ \"webhooks\": [] \"targets\": {} }", "line 1, position 18: is not valid JSON: '\"' after a value: a ',' is missing, or a character is out of place")]
    [InlineData("{ 'webhooks': [] }", "line 1, position 3: is not valid JSON: a single quote (') where a \"quoted\" property name should start")]
    public void A_json_syntax_error_is_one_line_in_the_users_terms_with_one_1_based_position(string json, string expected)
    {
        var problem = Assert.Single(Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(json)).Problems);

        Assert.EndsWith(expected, problem.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", problem.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("reader options", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Reports_every_problem_at_once_each_with_its_json_path()
    {
        const string json = """
            {
              "webhooks": [ { "name": "prod" } ],
              "targets": {
                "crm": { "type": "rudderstack-retl", "connectionId": "c1" },
                "hook": { "type": "http", "url": "not a url" },
                "odd": { "type": "carrier-pigeon" },
                "job": { "type": "dbt-cloud-job", "accountId": 1, "jobId": 2, "token": "dbt-token", "accessUrl": "http://cloud.getdbt.com" }
              },
              "routes": [ { "name": "r", "when": { "runStatus": ["Sucess"] }, "targets": ["crm", "nowhere"] } ]
            }
            """;

        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(json));

        var paths = ex.Problems.Select(p => p.Path).ToList();
        Assert.Contains("$.webhooks[0].secret", paths);                  // missing secret name
        Assert.Contains("$.targets.crm.token", paths);                   // missing secret name
        Assert.Contains("$.targets.hook.url", paths);                    // bad URL
        Assert.Contains("$.targets.odd.type", paths);                    // unknown type
        Assert.Contains("$.targets.job.accessUrl", paths);               // plain http off-machine
        Assert.Contains("$.routes[0].when.runStatus[0]", paths);         // typo in a status
        Assert.Contains("$.routes[0].targets[1]", paths);                // unknown target in a route
        Assert.Contains(ex.Problems, p => p.Message.Contains("carrier-pigeon", StringComparison.Ordinal));
        Assert.Contains("$.targets.odd.type", ex.Message);
        Assert.True(ex.Problems.Count >= 7);
    }

    [Fact]
    public void Rejects_a_secret_value_pasted_where_a_name_belongs_without_echoing_it()
    {
        const string pasted = "sk_live_9f8e7d6c5b4a3f2e1d0c+/=";
        var json = $$"""{ "webhooks": [ { "name": "p", "secret": "{{pasted}}" } ], "targets": {}, "routes": [] }""";

        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(json));

        Assert.Contains("$.webhooks[0].secret", ex.Message);
        Assert.DoesNotContain(pasted, ex.Message);
    }

    [Fact]
    public void Catches_a_misspelled_property_instead_of_ignoring_it()
    {
        const string json = """
            { "webhooks": [ { "name": "p", "secret": "s" } ],
              "targets": { "crm": { "type": "rudderstack-retl", "conectionId": "c1", "token": "t" } }, "routes": [] }
            """;

        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(json));

        Assert.Contains(ex.Problems, p => p.Path == "$.targets.crm.conectionId" && p.Message.Contains("unknown property", StringComparison.Ordinal));
        Assert.Contains(ex.Problems, p => p.Path == "$.targets.crm.connectionId");
    }

    [Fact]
    public void Reports_invalid_json_with_its_line()
    {
        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load("{\n  \"webhooks\": [\n  oops\n}"));

        Assert.StartsWith("line 3", Assert.Single(ex.Problems).Path, StringComparison.Ordinal);
    }

    [Fact]
    public void Refuses_a_configuration_without_webhooks_so_nothing_unsigned_is_accepted()
    {
        var ex = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load("""{ "webhooks": [], "targets": {}, "routes": [] }"""));

        Assert.Equal("$.webhooks", Assert.Single(ex.Problems).Path);
    }

    [Fact]
    public void Warns_when_a_route_fires_twice_for_one_errored_run()
    {
        const string json = """
            { "webhooks": [ { "name": "p", "secret": "s" } ],
              "targets": { "alert": { "type": "http", "url": "https://hooks.example.com/x" } },
              "routes": [
                { "name": "both", "when": { "eventTypes": ["job.run.completed", "job.run.errored"] }, "targets": ["alert"] },
                { "name": "success-only", "when": { "eventTypes": ["job.run.completed", "job.run.errored"], "runStatus": ["Success"] }, "targets": ["alert"] }
              ] }
            """;

        var config = RelayConfigLoader.Load(json);

        var warning = Assert.Single(config.Warnings);
        Assert.Equal("$.routes[0].when.eventTypes", warning.Path);
        Assert.Contains("alert", warning.Message);
    }

    [Fact]
    public void The_shipped_example_relay_json_is_valid_and_uses_every_target_type()
    {
        var config = RelayConfigLoader.LoadFile(Path.Combine(Repository.Root(), "src", "DbtRelay.Functions", "relay.json"));

        Assert.Equal(TargetTypes.All.Keys.Order(), config.Targets.Values.Select(t => t.Type).Distinct().Order());
        Assert.Empty(config.Warnings);
    }

    [Fact]
    public void The_json_schema_knows_every_target_type_and_its_properties()
    {
        using var schema = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root(), "src", "DbtRelay", "Config", "relay.schema.json")));
        var text = schema.RootElement.GetRawText();

        foreach (var type in TargetTypes.All.Keys) Assert.Contains($"\"{type}\"", text, StringComparison.Ordinal);
        foreach (var property in new[] { "connectionId", "onConflict", "accessUrl", "stepsOverride", "successCodes", "signing", "runStatus", "environmentIds" })
            Assert.Contains($"\"{property}\"", text, StringComparison.Ordinal);
    }

}
