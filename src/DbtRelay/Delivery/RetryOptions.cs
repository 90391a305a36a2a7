using System.ComponentModel.DataAnnotations;

namespace DbtRelay.Delivery;

/// <summary>
/// Backoff between delivery attempts: <c>InitialDelay × Factor^(attempt-1)</c>, capped, with ± jitter so that a
/// downstream outage does not end in a thundering herd. Defaults: 10 s doubling to 1 h, 12 attempts, about 3.4 h.
/// </summary>
public sealed class RetryOptions
{
    public const string Section = "Delivery";

    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 12;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1.0, 10.0)]
    public double Factor { get; set; } = 2;

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Fraction of the delay added or removed at random (0.2 = ±20 %).</summary>
    [Range(0.0, 0.5)]
    public double Jitter { get; set; } = 0.2;

    /// <summary>Extra time a claim outlives a target's timeout before another instance may take over.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan LeaseMargin { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Status checks of a followed run that may fail in a row (backing off) before the run is recorded as unknown.</summary>
    [Range(1, 100)]
    public int MaxStatusFailures { get; set; } = 10;

    /// <summary>
    /// Failed attempts in a row to one target after which the target is paused (a circuit breaker); 0, the default,
    /// never pauses on its own. Every failure is still retried and dead-lettered as usual until then.
    /// </summary>
    [Range(0, 1000)]
    public int PauseAfterFailures { get; set; }

    /// <summary>
    /// The wait after failed attempt <paramref name="attempt"/>: never shorter than the target's Retry-After, never
    /// longer than <see cref="MaxDelay"/> (a Retry-After of years would park a delivery where nobody sees it).
    /// </summary>
    public TimeSpan DelayAfter(int attempt, TimeSpan? retryAfter, Random random)
    {
        var raw = InitialDelay.TotalSeconds * Math.Pow(Factor, Math.Max(0, attempt - 1));
        var capped = Math.Min(raw, MaxDelay.TotalSeconds);
        var jittered = capped * (1 + Jitter * (2 * random.NextDouble() - 1));
        var delay = TimeSpan.FromSeconds(jittered);
        if (retryAfter is not { } after || after <= delay) return delay;
        return after < MaxDelay ? after : (MaxDelay > delay ? MaxDelay : delay);
    }
}
