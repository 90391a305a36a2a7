namespace DbtRelay.Delivery;

public static class QueueNames
{
    public const string Events = "dbt-events";
    public const string Deliveries = "dbt-deliveries";
    public const string DeadLetters = "dbt-deliveries-failed";
}
