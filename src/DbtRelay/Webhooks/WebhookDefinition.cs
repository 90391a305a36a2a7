namespace DbtRelay.Webhooks;

/// <summary>One dbt Cloud webhook subscription whose signatures are accepted.</summary>
public sealed record WebhookDefinition(string Name, string Secret);
