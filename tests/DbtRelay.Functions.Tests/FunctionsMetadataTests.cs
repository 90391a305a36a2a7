using System.Text.Json;
using DbtRelay.Delivery;
using DbtRelay.Operations;

namespace DbtRelay.Functions.Tests;

/// <summary>
/// The Functions host's own rules, checked on the functions.metadata the Worker SDK generates (what the host reads):
/// a route must not begin with "admin" or "runtime" (the host refuses such a function and it never loads), no two
/// functions may share a route and method, and each function has the auth level the README states.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly string[] AllMethods = ["get", "head", "post", "put", "patch", "delete", "options"];

    private static readonly JsonElement[] Functions = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "functions.metadata"))).RootElement.EnumerateArray().ToArray();

    private static IEnumerable<(string Name, JsonElement Trigger)> HttpFunctions() =>
        from f in Functions
        from b in f.GetProperty("bindings").EnumerateArray()
        where b.GetProperty("type").GetString() == "httpTrigger"
        select (f.GetProperty("name").GetString()!, b);

    private static string Route(JsonElement trigger) => trigger.GetProperty("route").GetString()!;

    private static string[] Methods(JsonElement trigger) =>
        trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()).ToArray();

    [Fact]
    public void No_route_claims_the_hosts_reserved_admin_or_runtime_prefix()
    {
        var routes = HttpFunctions().Select(f => Route(f.Trigger)).ToList();

        Assert.NotEmpty(routes);
        Assert.All(routes, route =>
        {
            Assert.False(route.StartsWith("admin", StringComparison.OrdinalIgnoreCase), route);
            Assert.False(route.StartsWith("runtime", StringComparison.OrdinalIgnoreCase), route);
            Assert.False(route.StartsWith('/'), route);
        });
    }

    [Fact]
    public void Each_route_and_method_belongs_to_one_function()
    {
        var pairs = HttpFunctions().SelectMany(f => Methods(f.Trigger).Select(m => $"{m} {Route(f.Trigger)}")).ToList();

        Assert.Equal(pairs.Count, pairs.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void The_webhook_and_health_are_anonymous_and_the_ops_api_needs_a_function_key()
    {
        var auth = HttpFunctions().ToDictionary(f => f.Name, f => f.Trigger.GetProperty("authLevel").GetString());

        Assert.Equal("Anonymous", auth["ReceiveDbtWebhook"]);
        Assert.Equal("Anonymous", auth["Health"]);
        Assert.Equal("Function", auth["ListDeadLetters"]);
        Assert.Equal("Function", auth["ReplayDeadLetters"]);
        Assert.Equal("Function", auth["ReplayDeadLetter"]);
        Assert.Equal("Function", auth["ListEvents"]);
        Assert.Equal("Function", auth["GetEvent"]);
        Assert.Equal("Function", auth["RedeliverEvent"]);
        Assert.Equal("Function", auth["ListPausedTargets"]);
        Assert.Equal("Function", auth["PauseTarget"]);
        Assert.Equal("Function", auth["ResumeTarget"]);
        Assert.Equal(11, auth.Count);
    }

    [Fact]
    public void The_webhook_lists_every_method_so_the_worker_answers_405_instead_of_the_host_404()
    {
        var (_, webhook) = HttpFunctions().Single(f => f.Name == "ReceiveDbtWebhook");

        Assert.Equal("dbt/webhook", Route(webhook));
        Assert.Equal(AllMethods.Order(), Methods(webhook).Order());
    }

    [Fact]
    public void The_ops_routes_are_the_ones_serve_answers()
    {
        var routes = HttpFunctions().Where(f => f.Name.Contains("DeadLetter", StringComparison.Ordinal))
            .ToDictionary(f => f.Name, f => (Route(f.Trigger), Methods(f.Trigger).Single()));

        Assert.Equal((DeadLetterRoutes.Base, "get"), routes["ListDeadLetters"]);
        Assert.Equal((DeadLetterRoutes.Replay, "post"), routes["ReplayDeadLetters"]);
        Assert.Equal((DeadLetterRoutes.ReplayOne, "post"), routes["ReplayDeadLetter"]);
    }

    [Fact]
    public void The_events_routes_are_the_ones_serve_answers()
    {
        var routes = HttpFunctions().Where(f => f.Name.Contains("Event", StringComparison.Ordinal) && f.Name != "ReceiveDbtWebhook")
            .ToDictionary(f => f.Name, f => (Route(f.Trigger), Methods(f.Trigger).Single()));

        Assert.Equal((EventRoutes.List, "get"), routes["ListEvents"]);
        Assert.Equal((EventRoutes.One, "get"), routes["GetEvent"]);
        Assert.Equal((EventRoutes.Redeliver, "post"), routes["RedeliverEvent"]);
    }

    [Fact]
    public void The_targets_routes_are_the_ones_serve_answers()
    {
        var routes = HttpFunctions().Where(f => f.Name.Contains("Target", StringComparison.Ordinal))
            .ToDictionary(f => f.Name, f => (Route(f.Trigger), Methods(f.Trigger).Single()));

        Assert.Equal((TargetRoutes.List, "get"), routes["ListPausedTargets"]);
        Assert.Equal((TargetRoutes.Pause, "post"), routes["PauseTarget"]);
        Assert.Equal((TargetRoutes.Resume, "post"), routes["ResumeTarget"]);
    }

    [Fact]
    public void Queue_triggers_use_the_relays_queues_and_nothing_but_the_library_writes_them()
    {
        var queues = (from f in Functions
                      from b in f.GetProperty("bindings").EnumerateArray()
                      where b.TryGetProperty("queueName", out _)
                      select $"{f.GetProperty("name").GetString()} {b.GetProperty("type").GetString()} {b.GetProperty("queueName").GetString()}").Order();

        Assert.Equal(
            // No output binding: intake stores through the same StorageRelayQueues as every other writer (one writer path
            // per queue, never expiring), so a 202 means stored and a store failure is the library's 503.
            [$"DeliverSync queueTrigger {QueueNames.Deliveries}", $"RouteDbtEvent queueTrigger {QueueNames.Events}"],
            queues);
    }
}
