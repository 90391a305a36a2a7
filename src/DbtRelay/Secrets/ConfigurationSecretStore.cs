using Microsoft.Extensions.Configuration;

namespace DbtRelay.Secrets;

/// <summary>
/// Secrets from .NET configuration: key <c>Secrets:&lt;name&gt;</c> (environment <c>Secrets__&lt;name&gt;</c>). Because
/// some platforms refuse dashes in environment variable names, <c>Secrets__dbt_webhook_prod</c> also serves
/// <c>dbt-webhook-prod</c>.
/// </summary>
public sealed class ConfigurationSecretStore(IConfiguration configuration) : ISecretStore
{
    public const string Section = "Secrets";

    public ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken)
    {
        var section = configuration.GetSection(Section);
        var value = section[name] ?? section[name.Replace('-', '_')];
        return ValueTask.FromResult(string.IsNullOrEmpty(value) ? null : value);
    }

    public ValueTask<string?> RefreshAsync(string name, CancellationToken cancellationToken) => GetAsync(name, cancellationToken);

    public string Describe(string name) => $"configuration key {Section}:{name} (environment variable {Section}__{name.Replace('-', '_')})";
}
