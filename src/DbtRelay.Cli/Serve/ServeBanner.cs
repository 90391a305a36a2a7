using DbtRelay.AspNetCore;
using DbtRelay.Config;
using DbtRelay.Secrets;
using DbtRelay.Webhooks;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DbtRelay.Cli.Serve;

/// <summary>What serve prints once it listens: config, store, addresses, each secret's state, routes.</summary>
internal static class ServeBanner
{
    internal static async Task PrintBannerAsync(WebApplication app, string? configPath, TextWriter output, CancellationToken cancellationToken)
    {
        var config = app.Services.GetRequiredService<RelayConfig>();
        var webhookSecrets = app.Services.GetRequiredService<IWebhookSecretProvider>().Current;
        var store = app.Services.GetRequiredService<ISecretStore>();
        var addresses = ServeHost.Addresses(app);
        output.WriteLine(configPath is null
            ? $"DbtRelay {RelayServiceCollectionExtensions.Version} running the demo: no relay.json in {Environment.CurrentDirectory} (`dbt-relay init` writes one)"
            : $"DbtRelay {RelayServiceCollectionExtensions.Version} serving {configPath}");
        output.WriteLine($"  store: {app.Services.GetRequiredService<ServeStore>().Describe()}");
        foreach (var address in addresses) output.WriteLine($"  listening: POST {address}{RelayCli.WebhookPath}   (health: {address}/api/health)");
        if (configPath is null)
        {
            output.WriteLine($"  demo sink: every routed event is POSTed to {(addresses.Count > 0 ? addresses[0] : "")}{DemoRelay.SinkPath} (GET it to see the calls)");
            output.WriteLine("  try it: dbt-relay send   (in another terminal)");
        }
        output.WriteLine(await store.GetAsync(AdminKey.Secret, cancellationToken) is null
            ? $"  ops API: off (set {store.Describe(AdminKey.Secret)} for /api/events, /api/ops/dead-letters and /metrics)"
            : $"  ops API: {(addresses.Count > 0 ? addresses[0] : "")}/api/events, /api/ops/dead-letters, /metrics (header {AdminKey.Header}; dbt-relay events)");
        output.WriteLine($"  secrets from: {store.Describe("<name>")}");
        var missing = 0;
        foreach (var (secret, usedBy) in config.SecretReferences.Distinct())
        {
            var webhook = config.Webhooks.FirstOrDefault(w => $"webhook {w.Name}" == usedBy);
            var loaded = webhook is not null
                ? webhookSecrets.FirstOrDefault(s => s.Name == webhook.Name) is { } w ? $"loaded (fingerprint {w.Fingerprint})" : null
                : await store.GetAsync(secret, cancellationToken) is not null ? "loaded" : null;
            if (loaded is null) missing++;
            output.WriteLine($"    {secret} ({usedBy}): {loaded ?? $"MISSING: set {store.Describe(secret)}"}");
        }
        if (webhookSecrets.Count == 0)
        {
            // Intake fails closed without a webhook secret: every event gets 503 (dbt retries), none is accepted.
            output.WriteLine($"  intake is CLOSED: no webhook secret is loaded, so every event is answered 503 until one is set ({missing} secret(s) missing).");
        }
        else if (missing > 0)
        {
            output.WriteLine($"  {missing} secret(s) missing: events are accepted, but the targets that need them dead-letter until they are set.");
        }
        foreach (var route in config.Routes) output.WriteLine($"  route {route.Name} → {string.Join(", ", route.Targets)}");
        foreach (var warning in config.Warnings) output.WriteLine($"  warning: {warning}");
        output.WriteLine("Ctrl+C stops after the queued events are delivered.");
        await output.FlushAsync(cancellationToken);
    }

    internal static bool IsJson(WebApplication app) =>
        string.Equals(app.Configuration["Logging:Console:FormatterName"], "json", StringComparison.OrdinalIgnoreCase);

    /// <summary>As text, or (JSON logs) one object per line so that a log collector reads the banner like any line.</summary>
    internal static async Task WriteBannerAsync(string banner, bool json, TextWriter output)
    {
        foreach (var line in banner.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            await output.WriteLineAsync(json
                ? System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, string> { ["Category"] = "DbtRelay.Cli.Banner", ["Message"] = line.TrimEnd('\r').Trim() })
                : line.TrimEnd('\r'));
        }
        await output.FlushAsync();
    }
}
