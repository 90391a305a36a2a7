namespace DbtRelay.Delivery;

/// <summary>A dead letter as the ops API lists it: which delivery, after how many attempts, and why.</summary>
public sealed record DeadLetterSummary(string EventId, string Target, int Attempt, string Reason, DateTimeOffset FailedAt)
{
    public static DeadLetterSummary Of(DeadLetter deadLetter) => new(
        deadLetter.Delivery.Event.EventId, deadLetter.Delivery.Target, deadLetter.Delivery.Attempt, deadLetter.Reason, deadLetter.FailedAt);
}
