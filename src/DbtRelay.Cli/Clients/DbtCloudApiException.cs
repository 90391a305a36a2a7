

namespace DbtRelay.Cli.Clients;

/// <summary>A dbt Cloud API failure, worded for the person at the terminal (never carries the token).</summary>
internal sealed class DbtCloudApiException(string message) : Exception(message);
