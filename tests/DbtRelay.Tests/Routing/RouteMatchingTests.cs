using DbtRelay.Config;
using DbtRelay.Events;

namespace DbtRelay.Tests.Routing;

public sealed class RouteMatchingTests
{
    private static RelayConfig Config(string when) => RelayConfigLoader.Load($$"""
        { "webhooks": [ { "name": "p", "secret": "s" } ],
          "targets": { "t": { "type": "http", "url": "https://example.com/hook" } },
          "routes": [ { "name": "r", "when": {{when}}, "targets": ["t"] } ] }
        """);

    private static EventEnvelope Event(string type = "job.run.completed", int? code = 10, string? job = "1", string? env = "2", string? project = "3") => new()
    {
        EventId = "wev_m", EventType = type, Webhook = "p", ReceivedAt = DateTimeOffset.UnixEpoch,
        RunStatusCode = code, RunStatus = code?.ToString(System.Globalization.CultureInfo.InvariantCulture), JobId = job, EnvironmentId = env, ProjectId = project, Body = "{}"u8.ToArray(),
    };

    [Theory]
    [InlineData("""{}""", true)]
    [InlineData("""{ "jobIds": [], "environmentIds": [], "projectIds": [], "runStatus": [] }""", true)]
    [InlineData("""{ "jobIds": ["9", "1"] }""", true)]
    [InlineData("""{ "jobIds": [1] }""", true)]
    [InlineData("""{ "jobIds": ["9"] }""", false)]
    [InlineData("""{ "jobIds": ["1"], "environmentIds": ["2"], "projectIds": ["3"] }""", true)]
    [InlineData("""{ "jobIds": ["1"], "environmentIds": ["5"] }""", false)]
    [InlineData("""{ "runStatus": ["success"] }""", true)]
    [InlineData("""{ "runStatus": ["10"] }""", true)]
    [InlineData("""{ "runStatus": ["Errored", "Cancelled"] }""", false)]
    public void Conditions_AND_together_values_OR_and_empty_lists_match_anything(string when, bool matches) =>
        Assert.Equal(matches, Config(when).Routes[0].When.WhyNot(Event()) is null);

    [Fact]
    public void An_empty_eventTypes_list_means_completed_only_so_starts_never_fire_it()
    {
        var condition = Config("""{ "eventTypes": [] }""").Routes[0].When;

        Assert.Null(condition.WhyNot(Event("job.run.completed")));
        Assert.NotNull(condition.WhyNot(Event("job.run.started", code: 3)));
        Assert.NotNull(condition.WhyNot(Event("job.run.errored", code: 20)));
    }

    [Fact]
    public void Explains_why_a_route_does_not_match()
    {
        var why = Config("""{ "jobIds": ["9"] }""").Routes[0].When.WhyNot(Event());

        Assert.Equal("jobId 1 is not one of [9]", why);
    }

    private static EventEnvelope EventWith(string data) => Event() with
    {
        Body = System.Text.Encoding.UTF8.GetBytes($$"""{"accountId": 1, "webhookName": "test", "eventType": "job.run.completed", "data": {{data}} }"""),
    };

    private const string Data = """{ "environmentName": "Production", "runReason": "Triggered via API by Jenkins", "projectName": "analytics-core", "runId": 70000001 }""";

    [Theory]
    [InlineData("""{ "data.environmentName": "Production" }""", null)]
    [InlineData("""{ "data.environmentName": "Staging" }""", "data.environmentName 'Production' is not 'Staging'")]
    [InlineData("""{ "data.environmentName": ["Staging", "Production"] }""", null)]
    [InlineData("""{ "data.environmentName": { "oneOf": ["Staging", "QA"] } }""", "data.environmentName 'Production' is not one of [Staging, QA]")]
    [InlineData("""{ "webhookName": { "notOneOf": ["test", "sandbox"] } }""", "webhookName 'test' is one of [test, sandbox]")]
    [InlineData("""{ "data.projectName": { "glob": "analytics-*" } }""", null)]
    [InlineData("""{ "data.projectName": { "glob": "marketing-?" } }""", "data.projectName 'analytics-core' does not match glob 'marketing-?'")]
    [InlineData("""{ "data.runReason": { "regex": "^Triggered via API" } }""", null)]
    [InlineData("""{ "data.runReason": { "regex": "schedule" } }""", "data.runReason 'Triggered via API by Jenkins' does not match regex 'schedule'")]
    [InlineData("""{ "data.runId": "70000001", "accountId": { "equals": "1" } }""", null)]
    [InlineData("""{ "data.gitBranch": { "notOneOf": ["main"] } }""", null)]
    [InlineData("""{ "data.gitBranch": "main" }""", "data.gitBranch (absent) is not 'main'")]
    [InlineData("""{ "data.environmentName": "Production", "data.projectName": { "glob": "x*" } }""", "data.projectName 'analytics-core' does not match glob 'x*'")]
    public void Fields_of_the_event_are_tested_by_path_and_a_mismatch_says_which_and_why(string fields, string? why) =>
        Assert.Equal(why, Config($$"""{ "fields": {{fields}} }""").Routes[0].When.WhyNot(EventWith(Data)));

    [Fact]
    public void A_pattern_that_backtracks_catastrophically_elsewhere_is_decided_in_linear_time_here()
    {
        var when = Config("""{ "fields": { "data.runReason": { "regex": "^(a+)+$" } } }""").Routes[0].When;

        Assert.NotNull(when.WhyNot(EventWith($$"""{ "runReason": "{{new string('a', 50_000)}}!" }""")));
    }

    [Theory]
    [InlineData("""{ "dat.environmentName": "x" }""", "$.routes[0].when.fields['dat.environmentName']", "is not a field of a dbt event")]
    [InlineData("""{ "data..x": "x" }""", "$.routes[0].when.fields['data..x']", "is not a field of a dbt event")]
    [InlineData("""{ "data.x": { "regex": "(a)\\1" } }""", "$.routes[0].when.fields['data.x'].regex", "cannot run in linear time")]
    [InlineData("""{ "data.x": { "regex": "(" } }""", "$.routes[0].when.fields['data.x'].regex", "is not a valid regular expression")]
    [InlineData("""{ "data.x": { "glob": "a*", "regex": "b" } }""", "$.routes[0].when.fields['data.x']", "exactly one of")]
    [InlineData("""{ "data.x": { "like": "a" } }""", "$.routes[0].when.fields['data.x']", "exactly one of")]
    [InlineData("""{ "data.x": [] }""", "$.routes[0].when.fields['data.x']", "at least one value")]
    [InlineData("""{ "data.x": "" }""", "$.routes[0].when.fields['data.x']", "non-empty string")]
    [InlineData("""{ "data.x": true }""", "$.routes[0].when.fields['data.x']", "must be a value")]
    public void A_mistake_in_a_field_condition_is_reported_with_its_path(string fields, string path, string message)
    {
        var refused = Assert.Throws<RelayConfigException>(() => Config($$"""{ "fields": {{fields}} }"""));

        Assert.Contains(refused.Problems, p => p.Path == path && p.Message.Contains(message, StringComparison.Ordinal));
    }
}
