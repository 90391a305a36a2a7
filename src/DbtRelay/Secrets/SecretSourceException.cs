namespace DbtRelay.Secrets;

/// <summary>The secret store could not be read (network, throttling, outage): transient, retry later.</summary>
public sealed class SecretSourceException(string message) : Exception(message);
