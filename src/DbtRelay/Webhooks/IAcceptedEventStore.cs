namespace DbtRelay.Webhooks;

/// <summary>
/// Where intake hands an accepted event (queue <c>dbt-events</c>, in whatever store the host uses): the call returns
/// once the event is stored as durably as that store stores anything, and throws when it could not be stored.
/// </summary>
public interface IAcceptedEventStore
{
    ValueTask StoreAsync(Accepted accepted, CancellationToken cancellationToken);
}
