using System.Net;
using DbtRelay.AspNetCore;
using DbtRelay.Config;
using DbtRelay.InProcess;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Tests.AspNetCore;

/// <summary>
/// The relay hosted in someone else's ASP.NET Core app with the README's calls — AddDbtRelay, a store, AddDbtRelayServer,
/// MapDbtRelay — beside that app's own routes: a signed event is stored and delivered, the ops API needs the key.
/// </summary>
public sealed class MapDbtRelayTests : IAsyncLifetime
{
    private const string Secret = "own-app-secret";
    private readonly FakeHttpEndpoint _sink = new();
    private readonly HttpClient _http = new();
    private WebApplication _app = null!;
    private Uri _base = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Secrets:dbt-webhook"] = Secret, ["Secrets:relay-admin-key"] = "own-admin-key",
        });
        var relay = RelayConfigLoader.Load($$"""
            { "webhooks": [ { "name": "prod", "secret": "dbt-webhook" } ],
              "targets": { "sink": { "type": "http", "url": "{{_sink.BaseUrl}}hook" } },
              "routes": [ { "name": "all", "targets": ["sink"] } ] }
            """);
        builder.Services.AddDbtRelay(builder.Configuration, relay).AddDbtRelayInMemory().AddDbtRelayInProcess().AddDbtRelayServer();
        _app = builder.Build();
        _app.MapGet("/", () => "the app's own page");
        _app.MapDbtRelay();
        await _app.StartAsync();
        _base = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
    }

    [Fact]
    public async Task Two_calls_host_intake_the_ops_api_health_and_metrics_beside_the_apps_own_routes()
    {
        var body = DbtPayloads.Bytes(DbtPayloads.Completed(eventId: "wev_own_app"));
        using var post = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, "/api/dbt/webhook")) { Content = new ByteArrayContent(body) };
        post.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(Secret, body));
        using var accepted = await _http.SendAsync(post);
        await Eventually.True(() => !_sink.Received.IsEmpty);

        using var health = await _http.GetAsync(new Uri(_base, "/api/health"));
        using var noKey = await _http.GetAsync(new Uri(_base, "/api/events/wev_own_app"));
        using var withKey = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "/api/events/wev_own_app"));
        withKey.Headers.Add(AdminKey.Header, "own-admin-key");
        using var timeline = await _http.SendAsync(withKey);
        using var metrics = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, DbtRelayServer.MetricsPath));
        metrics.Headers.Add(AdminKey.Header, "own-admin-key");
        using var scraped = await _http.SendAsync(metrics);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Equal("the app's own page", await _http.GetStringAsync(_base));
        Assert.Equal((HttpStatusCode.OK, """{"status":"ok"}"""), (health.StatusCode, await health.Content.ReadAsStringAsync()));
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, timeline.StatusCode);
        Assert.Contains("\"eventId\":\"wev_own_app\"", await timeline.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, scraped.StatusCode);
        Assert.Contains("dbtrelay_events_accepted", await scraped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
        await _sink.DisposeAsync();
    }
}
