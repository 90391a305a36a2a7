using DbtRelay.Config;
using DbtRelay.Targets;

namespace DbtRelay.Tests.Config;

/// <summary>follow and onFailure in relay.json: every odd value is a config error with its path, never a crash.</summary>
public sealed class FollowConfigTests
{
    private static string Relay(string crm) => $$"""
        {
          "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
          "targets": {
            "crm": { "type": "rudderstack-retl", "connectionId": "conn1", "token": "rudderstack-token"{{crm}} },
            "alert": { "type": "http", "url": "https://example.com/hook" }
          },
          "routes": [ { "name": "r", "targets": ["crm"] } ]
        }
        """;

    [Theory]
    [InlineData(", \"follow\": null", "$.targets.crm.follow")]
    [InlineData(", \"follow\": {\"every\": 30}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"s\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"0s\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"1.5h\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"maxWait\": \"99999999999d\"}", "$.targets.crm.follow.maxWait")]
    [InlineData(", \"follow\": {\"maxWait\": \"99999999999999999999999d\"}", "$.targets.crm.follow.maxWait")]
    [InlineData(", \"follow\": {\"every\": \"٣s\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"2h\"}", "$.targets.crm.follow.every")]
    [InlineData(", \"follow\": {\"every\": \"1h\", \"maxWait\": \"1m\"}", "$.targets.crm.follow.maxWait")]
    [InlineData(", \"follow\": {\"evry\": \"1m\"}", "$.targets.crm.follow.evry")]
    [InlineData(", \"follow\": []", "$.targets.crm.follow")]
    [InlineData(", \"follow\": \"yes\"", "$.targets.crm.follow")]
    [InlineData(", \"onFailure\": null", "$.targets.crm.onFailure")]
    [InlineData(", \"onFailure\": [5]", "$.targets.crm.onFailure[0]")]
    [InlineData(", \"onFailure\": [true]", "$.targets.crm.onFailure[0]")]
    [InlineData(", \"onFailure\": \"alert\"", "$.targets.crm.onFailure")]
    [InlineData(", \"onFailure\": [\"crm\"]", "$.targets.crm.onFailure[0]")]
    [InlineData(", \"onFailure\": [\"nope\"]", "$.targets.crm.onFailure[0]")]
    [InlineData(", \"onFailure\": [\"\"]", "$.targets.crm.onFailure[0]")]
    [InlineData(", \"follow\": false, \"onFailure\": [\"alert\"]", "$.targets.crm.onFailure")]
    public void An_odd_follow_or_onFailure_is_reported_with_its_path(string crm, string path)
    {
        var refused = Assert.Throws<RelayConfigException>(() => RelayConfigLoader.Load(Relay(crm)));

        Assert.Contains(refused.Problems, p => p.Path == path);
    }

    [Theory]
    [InlineData("")]
    [InlineData(", \"follow\": true")]
    [InlineData(", \"follow\": {}")]
    [InlineData(", \"follow\": {\"every\": \"1s\", \"maxWait\": \"7d\"}")]
    [InlineData(", \"follow\": true, \"onFailure\": [\"alert\", \"alert\"]")]
    public void Valid_follow_settings_are_read_with_their_defaults(string crm)
    {
        var config = RelayConfigLoader.Load(Relay(crm));

        var follow = Assert.IsAssignableFrom<IFollowedTarget>(config.Targets["crm"]).Follow!;
        Assert.InRange(follow.Every, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Assert.True(follow.MaxWait >= follow.Every);
        Assert.Equal(crm.Contains("alert", StringComparison.Ordinal) ? ["alert"] : [], follow.OnFailure);
    }
}
