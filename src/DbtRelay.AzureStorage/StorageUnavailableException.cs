namespace DbtRelay.AzureStorage;

/// <summary>The relay's storage account cannot be used at startup; the message says which account and why.</summary>
public sealed class StorageUnavailableException(string message, Exception inner) : Exception(message, inner);
