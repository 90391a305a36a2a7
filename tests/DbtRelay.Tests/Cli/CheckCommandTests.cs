using DbtRelay.Cli;

namespace DbtRelay.Tests.Cli;

public sealed class CheckCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("relay-check").FullName;

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await RelayCli.Build(output, error).Parse(args).InvokeAsync();
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Explains_which_routes_an_event_fires_and_why_the_others_do_not()
    {
        var config = Write("relay.json", """
            { "webhooks": [ { "name": "p", "secret": "s" } ],
              "targets": { "a": { "type": "http", "url": "https://example.com/a", "coalesce": "10m" }, "b": { "type": "http", "url": "https://example.com/b" } },
              "routes": [
                { "name": "job-123", "when": { "jobIds": ["123"] }, "targets": ["a"] },
                { "name": "job-9", "when": { "jobIds": ["9"] }, "targets": ["b"] },
                { "name": "errors", "when": { "runStatus": ["Errored"] }, "targets": ["a", "b"] } ] }
            """);
        var eventFile = Write("event.json", DbtPayloads.Completed(jobId: "123"));

        var (exit, output, _) = await RunAsync("check", "--config", config, "--event", eventFile);

        Assert.Equal(0, exit);
        Assert.Contains("fires   job-123 → a", output);
        Assert.Contains("skips   job-9: jobId 123 is not one of [9]", output);
        Assert.Contains("skips   errors: runStatus Success (10)", output);
        Assert.Contains("targets called once each: a", output);
        Assert.Contains("a coalesces: this event joins its open window (or opens one); one call covers every event routed to it within 10m.", output);
    }

    [Fact]
    public async Task Explains_a_field_condition_that_an_event_does_not_meet()
    {
        var config = Write("relay.json", """
            { "webhooks": [ { "name": "p", "secret": "s" } ],
              "targets": { "a": { "type": "http", "url": "https://example.com/a" } },
              "routes": [
                { "name": "prod-only", "when": { "fields": { "data.environmentName": "Production", "data.projectName": { "glob": "Ana*" } } }, "targets": ["a"] },
                { "name": "staging", "when": { "fields": { "data.environmentName": { "oneOf": ["Staging", "QA"] } } }, "targets": ["a"] } ] }
            """);
        var eventFile = Write("event.json", DbtPayloads.Completed(jobId: "123"));

        var (exit, output, _) = await RunAsync("check", "--config", config, "--event", eventFile);

        Assert.Equal(0, exit);
        Assert.Contains("fires   prod-only → a", output);
        Assert.Contains("skips   staging: data.environmentName 'Production' is not one of [Staging, QA]", output);
    }

    [Fact]
    public async Task Fails_with_every_problem_and_its_path()
    {
        var config = Write("bad.json", """{ "webhooks": [ { "name": "p" } ], "targets": { "x": { "type": "ftp" } }, "routes": [ { "targets": ["y"] } ] }""");

        var (exit, _, error) = await RunAsync("check", "--config", config);

        Assert.Equal(2, exit);
        Assert.Contains("$.webhooks[0].secret: is required", error);
        Assert.Contains("$.targets.x.type: unknown target type 'ftp'", error);
        Assert.Contains("$.routes[0].targets[0]: names target 'y'", error);
    }

    [Fact]
    public async Task Serve_refuses_to_start_on_an_invalid_config()
    {
        var config = Write("bad.json", """{ "webhooks": [], "targets": {}, "routes": [] }""");

        var (exit, _, error) = await RunAsync("serve", "--config", config, "--urls", "http://127.0.0.1:0");

        Assert.Equal(2, exit);
        Assert.Contains("$.webhooks", error);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
