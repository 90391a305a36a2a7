using System.Text.RegularExpressions;

namespace DbtRelay.Secrets;

/// <summary>Where secrets referenced by name in relay.json come from: local configuration or Azure Key Vault.</summary>
public interface ISecretStore
{
    /// <summary>The secret's value, or null when the store has no secret of that name.</summary>
    ValueTask<string?> GetAsync(string name, CancellationToken cancellationToken);

    /// <summary>Re-reads the secret from its source, bypassing any cache (after a signature mismatch or a 401).</summary>
    ValueTask<string?> RefreshAsync(string name, CancellationToken cancellationToken);

    /// <summary>Where a person should put the secret, for error messages (never the value).</summary>
    string Describe(string name);
}

public static partial class SecretNames
{
    /// <summary>Key Vault's alphabet, used everywhere so that a name works in every store.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "1-127 letters, digits and dashes (Key Vault's rule)";

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$")]
    private static partial Regex Pattern();
}
