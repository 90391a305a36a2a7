using DbtRelay.Cli.Serve;
using DbtRelay.Config;
using NJsonSchema;

namespace DbtRelay.Tests.Config;

/// <summary>
/// relay.schema.json (what an editor checks while typing) and the loader (what serve and check run) give the same
/// verdict on every example configuration and on a corpus of broken ones. The loader also checks what no schema
/// can (a route naming a target that does not exist, a secret pasted as a name); those are outside this corpus.
/// </summary>
public sealed class RelaySchemaParityTests
{
    private static readonly Lazy<Task<JsonSchema>> Schema = new(() =>
        JsonSchema.FromFileAsync(Path.Combine(Repository.Root(), "src", "DbtRelay", "Config", "relay.schema.json")));

    private const string Valid = """
        { "webhooks": [ { "name": "prod", "secret": "dbt-webhook-prod" } ],
          "targets": { "t": { "type": "dbt-cloud-job", "accessUrl": "https://cloud.getdbt.com", "accountId": 1, "jobId": 2, "token": "dbt-api-token", "timeoutSeconds": 20 } },
          "routes": [ { "name": "r", "when": { "runStatus": ["Success"] }, "targets": ["t"] } ] }
        """;

    public static TheoryData<string, string> Examples => new()
    {
        { "the Functions app's relay.json", File.ReadAllText(Path.Combine(Repository.Root(), "src", "DbtRelay.Functions", "relay.json")) },
        { "the Functions app's local relay.local.json", File.ReadAllText(Path.Combine(Repository.Root(), "src", "DbtRelay.Functions", "relay.local.json")) },
        { "serve's demo", DemoRelay.Config("http://127.0.0.1:7071") },
        { "a minimal dbt-cloud-job config", Valid },
        { "field conditions of every kind", Valid.Replace("\"runStatus\": [\"Success\"]", """
            "runStatus": ["Success"], "fields": { "data.environmentName": "Production", "data.jobId": ["1", 2],
              "webhookName": { "notOneOf": ["sandbox"] }, "data.projectName": { "glob": "analytics-*" }, "data.runReason": { "regex": "^Triggered" } }
            """, StringComparison.Ordinal) },
    };

    public static TheoryData<string, string> Broken => new()
    {
        { "an account id in quotes", Valid.Replace("\"accountId\": 1", "\"accountId\": \"12345\"", StringComparison.Ordinal) },
        { "a timeout in quotes", Valid.Replace("\"timeoutSeconds\": 20", "\"timeoutSeconds\": \"20\"", StringComparison.Ordinal) },
        { "a trailing comma", Valid.Replace("\"timeoutSeconds\": 20 }", "\"timeoutSeconds\": 20, }", StringComparison.Ordinal) },
        { "a comment", Valid.Replace("{ \"webhooks\"", "{ /* mine */ \"webhooks\"", StringComparison.Ordinal) },
        { "an unknown top-level property", Valid.Replace("{ \"webhooks\"", "{ \"webhook\": [], \"webhooks\"", StringComparison.Ordinal) },
        { "an unknown target property", Valid.Replace("\"jobId\": 2", "\"jobId\": 2, \"job\": 2", StringComparison.Ordinal) },
        { "an unknown target type", Valid.Replace("\"dbt-cloud-job\"", "\"dbt-job\"", StringComparison.Ordinal) },
        { "a missing required property", Valid.Replace("\"jobId\": 2, ", "", StringComparison.Ordinal) },
        { "no webhooks", Valid.Replace("[ { \"name\": \"prod\", \"secret\": \"dbt-webhook-prod\" } ]", "[]", StringComparison.Ordinal) },
        { "a secret name with a dot", Valid.Replace("dbt-webhook-prod", "dbt.webhook", StringComparison.Ordinal) },
        { "a field path outside the event", Valid.Replace("\"runStatus\": [\"Success\"]", "\"fields\": { \"dat.environmentName\": \"x\" }", StringComparison.Ordinal) },
        { "a field condition with two operators", Valid.Replace("\"runStatus\": [\"Success\"]", "\"fields\": { \"data.x\": { \"glob\": \"a\", \"regex\": \"b\" } }", StringComparison.Ordinal) },
        { "an empty field list", Valid.Replace("\"runStatus\": [\"Success\"]", "\"fields\": { \"data.x\": [] }", StringComparison.Ordinal) },
        { "an unknown field operator", Valid.Replace("\"runStatus\": [\"Success\"]", "\"fields\": { \"data.x\": { \"like\": \"a\" } }", StringComparison.Ordinal) },
    };

    private static async Task<(bool Schema, bool Loader, string Why)> VerdictsAsync(string json)
    {
        bool schemaAccepts;
        string why;
        try
        {
            // A schema judges JSON documents, and RFC 8259 JSON has no comments or trailing commas; Newtonsoft, which
            // NJsonSchema parses with, would skip them, so the document is read strictly first.
            using (System.Text.Json.JsonDocument.Parse(json)) { }
            var errors = (await Schema.Value).Validate(json);
            schemaAccepts = errors.Count == 0;
            why = string.Join("; ", errors.Select(e => $"{e.Path}: {e.Kind}"));
        }
        catch (Exception ex) when (ex is Newtonsoft.Json.JsonException or System.Text.Json.JsonException)
        {
            (schemaAccepts, why) = (false, ex.Message);
        }
        try
        {
            RelayConfigLoader.Load(json);
            return (schemaAccepts, true, why);
        }
        catch (RelayConfigException ex)
        {
            return (schemaAccepts, false, $"{why} | loader: {ex.Message}");
        }
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Every_example_passes_both_the_schema_and_the_loader(string example, string json)
    {
        var (schema, loader, why) = await VerdictsAsync(json);

        Assert.True(schema && loader, $"{example}: schema {schema}, loader {loader}: {why}");
    }

    [Theory]
    [MemberData(nameof(Broken))]
    public async Task Every_broken_config_fails_both_the_schema_and_the_loader(string mistake, string json)
    {
        var (schema, loader, why) = await VerdictsAsync(json);

        Assert.True(!schema && !loader, $"{mistake}: schema accepts {schema}, loader accepts {loader}: {why}");
    }
}
