using System.Text.RegularExpressions;

namespace DbtRelay.Secrets;

public static partial class SecretNames
{
    /// <summary>Key Vault's alphabet, used everywhere so that a name works in every store.</summary>
    public static bool IsValid(string? name) => name is not null && Pattern().IsMatch(name);

    public const string Rule = "1-127 letters, digits and dashes (Key Vault's rule)";

    [GeneratedRegex("^[0-9A-Za-z-]{1,127}$")]
    private static partial Regex Pattern();
}
