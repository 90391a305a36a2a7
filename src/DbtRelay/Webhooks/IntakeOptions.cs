using System.ComponentModel.DataAnnotations;

namespace DbtRelay.Webhooks;

public sealed class IntakeOptions
{
    public const string Section = "Intake";

    /// <summary>
    /// Largest body accepted (dbt bodies are 1–3 KiB). Every valid event up to this size is accepted: its envelope is
    /// the body plus at most ~11 KiB of fields (eight ids of up to <see cref="DbtEventReader.MaxFieldLength"/>
    /// characters, escaped), which stays under <see cref="MaxEnvelopeBytes"/>.
    /// </summary>
    [Range(1024, DefaultMaxBodyBytes)]
    public int MaxBodyBytes { get; set; } = DefaultMaxBodyBytes;

    public const int DefaultMaxBodyBytes = 48 * 1024;

    /// <summary>
    /// Largest serialized envelope: an Azure Storage queue message holds 64 KiB of UTF-8, and the delivery and
    /// dead-letter messages wrap the envelope with their target, reasons and times (reasons are capped), so 62 KiB
    /// leaves room for them. With the default body limit no valid event reaches it.
    /// </summary>
    [Range(4 * 1024, 64 * 1024)]
    public int MaxEnvelopeBytes { get; set; } = 62 * 1024;

    /// <summary>
    /// The oldest signed <c>timestamp</c> accepted. A captured event replayed later carries its old timestamp; within
    /// the 30 days the relay remembers an event id the replay is a duplicate, and past this age it is refused, so the
    /// age must stay under those 30 days. dbt Cloud retries a failed delivery five times over far less than 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "29.00:00:00")]
    public TimeSpan MaxEventAge { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How far in the future a signed timestamp may be (clocks differ).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(1);
}
