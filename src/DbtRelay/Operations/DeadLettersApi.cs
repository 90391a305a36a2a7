using DbtRelay.Delivery;

namespace DbtRelay.Operations;

/// <summary>
/// The dead-letter half of the ops API, as both hosts map it: list, replay all, replay one event's delivery to one
/// target. Replays are fresh first attempts; the ledger still guarantees one successful call per event and target.
/// </summary>
public sealed class DeadLettersApi(IDeadLetters deadLetters)
{
    public async Task<OpsAnswer> ListAsync(int? max, CancellationToken cancellationToken) =>
        new(200, OpsJson.Serialize(await deadLetters.ListAsync(DeadLetterRoutes.Limit(max), cancellationToken).ConfigureAwait(false)));

    public async Task<OpsAnswer> ReplayAllAsync(int? max, CancellationToken cancellationToken) =>
        new(200, OpsJson.Serialize(new ReplayAnswer(await deadLetters.ReplayAsync(DeadLetterRoutes.Limit(max), null, cancellationToken).ConfigureAwait(false))));

    public async Task<OpsAnswer> ReplayOneAsync(string eventId, string target, CancellationToken cancellationToken) =>
        await deadLetters.ReplayAsync(1, new EventAndTarget(eventId, target), cancellationToken).ConfigureAwait(false) is var replayed and > 0
            ? new(200, OpsJson.Serialize(new ReplayAnswer(replayed)))
            : new(404, OpsJson.Serialize(new OpsError("not_dead_lettered", $"no dead letter of {eventId} for target '{target}' (never dead-lettered, already replayed, or pruned)")));
}
