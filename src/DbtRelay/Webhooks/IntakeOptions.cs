using System.ComponentModel.DataAnnotations;

namespace DbtRelay.Webhooks;

public sealed class IntakeOptions
{
    public const string Section = "Intake";

    /// <summary>Largest body accepted (dbt bodies are about 1 KiB).</summary>
    [Range(1024, 64 * 1024)]
    public int MaxBodyBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// Largest serialized envelope: an Azure Storage queue message holds 64 KiB, and a delivery message wraps the
    /// envelope with about 1 KiB of its own, so 62 KiB leaves room for it.
    /// </summary>
    [Range(4 * 1024, 64 * 1024)]
    public int MaxEnvelopeBytes { get; set; } = 62 * 1024;
}
