using DbtRelay.Config;
using DbtRelay.Delivery;

namespace DbtRelay.Operations;

/// <summary>
/// The targets API behind both hosts: which targets are paused, pause one, resume one. Pausing holds the target's
/// deliveries (not attempted, not dead-lettered, not counted); resuming lets them go within <see cref="TargetPauses.Recheck"/>.
/// </summary>
public sealed class TargetsApi(TargetPauses pauses, RelayConfig config)
{
    public async Task<OpsAnswer> ListAsync(CancellationToken cancellationToken) =>
        new(200, DeliveryJson.Serialize(await pauses.ListAsync(cancellationToken).ConfigureAwait(false)));

    public async Task<OpsAnswer> PauseAsync(string name, string? reason, CancellationToken cancellationToken)
    {
        if (!config.Targets.ContainsKey(name)) return Unknown(name);
        var why = string.IsNullOrWhiteSpace(reason) ? "paused by an operator" : new string([.. reason.Take(200).Select(c => char.IsControl(c) ? ' ' : c)]);
        return new OpsAnswer(200, DeliveryJson.Serialize(await pauses.PauseAsync(name, TargetPauses.ByOperator, why, cancellationToken).ConfigureAwait(false)));
    }

    public async Task<OpsAnswer> ResumeAsync(string name, CancellationToken cancellationToken)
    {
        if (!config.Targets.ContainsKey(name)) return Unknown(name);
        return await pauses.ResumeAsync(name, cancellationToken).ConfigureAwait(false)
            ? new OpsAnswer(200, OpsJson.Serialize(new ResumeAnswer(name)))
            : new OpsAnswer(409, OpsJson.Serialize(new OpsError("not_paused", $"target '{name}' is not paused")));
    }

    private OpsAnswer Unknown(string name) =>
        new(404, OpsJson.Serialize(new OpsError("unknown_target", $"relay.json has no target '{name}' (targets: {string.Join(", ", config.Targets.Keys.Order(StringComparer.Ordinal))})")));
}
