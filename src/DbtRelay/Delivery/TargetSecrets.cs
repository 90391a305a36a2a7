using DbtRelay.Secrets;
using DbtRelay.Targets;

namespace DbtRelay.Delivery;

/// <summary>
/// Reads the secrets a target names, for one call. A missing secret is a permanent failure naming where to set it; a
/// store that cannot be read is transient. Both are outcomes, so the caller never has to catch them.
/// </summary>
public sealed class TargetSecrets(ISecretStore store)
{
    public async Task<(Dictionary<string, string>? Values, TargetOutcome? Failure)> ResolveAsync(
        IDeliveryTarget target, bool refresh, CancellationToken cancellationToken)
    {
        var resolved = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var name in target.SecretNames)
            {
                var value = refresh
                    ? await store.RefreshAsync(name, cancellationToken).ConfigureAwait(false)
                    : await store.GetAsync(name, cancellationToken).ConfigureAwait(false);
                if (value is null) return (null, new Failed($"secret '{name}' for target {target.Name} is not set ({store.Describe(name)})"));
                resolved[name] = value;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The vault is down or throttling and nothing is cached yet: transient.
            return (null, new RetryLater($"the secret store could not be read ({ex.GetType().Name})"));
        }
        return (resolved, null);
    }

    /// <summary>Until when a forced re-read of the target's secrets would return cached values (null: it would read them).</summary>
    public DateTimeOffset? ReReadBlockedUntil(IDeliveryTarget target) =>
        target.SecretNames.Select(store.NextForcedReadAt).Max();
}
