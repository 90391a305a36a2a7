using System.ComponentModel.DataAnnotations;

namespace DbtRelay.Secrets;

/// <summary>
/// <c>KeyVault:Uri</c> (environment <c>KeyVault__Uri</c>): when set, every secret named in relay.json comes from this
/// vault through the app's managed identity; when empty, from configuration (<c>Secrets:&lt;name&gt;</c>).
/// </summary>
public sealed class KeyVaultOptions : IValidatableObject
{
    public const string Section = "KeyVault";

    public string? Uri { get; set; }

    /// <summary>Client id of a user-assigned managed identity; empty uses DefaultAzureCredential.</summary>
    public string? ClientId { get; set; }

    /// <summary>How long a fetched secret is served before the background refresh replaces it.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    public bool Enabled => !string.IsNullOrWhiteSpace(Uri);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Enabled && (!System.Uri.TryCreate(Uri, UriKind.Absolute, out var uri) || uri.Scheme != "https"))
        {
            yield return new ValidationResult($"KeyVault:Uri must be the vault's https URI (https://<name>.vault.azure.net/), not '{Uri}'.", [nameof(Uri)]);
        }
    }
}
