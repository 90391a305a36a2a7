using DbtRelay.Config;
using DbtRelay.Webhooks;

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
}
