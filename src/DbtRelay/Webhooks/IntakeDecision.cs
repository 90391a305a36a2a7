namespace DbtRelay.Webhooks;

/// <summary>What intake decided about one request; hosts map it to their transport.</summary>
public abstract record IntakeDecision(int StatusCode)
{
    /// <summary>The JSON answer for the HTTP response (never contains a secret).</summary>
    public abstract byte[] ResponseBody();
}
