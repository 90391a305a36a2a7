using System.Text;
using System.Text.Json.Nodes;
using DbtRelay.Webhooks;

namespace DbtRelay.Targets;

/// <summary>
/// Triggers an Elementary Cloud sync: <c>POST url</c> with an empty body and <c>Authorization</c> = lowercase hex
/// HMAC-SHA256(secret, exact bytes sent), as Elementary's guide signs it.
/// </summary>
public sealed class ElementaryTarget(string name, TimeSpan timeout, Uri url, string signingSecret) : IDeliveryTarget
{
    public const string TypeName = "elementary";

    public string Name => name;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;
    public IReadOnlyList<string> SecretNames => [signingSecret];

    /// <summary>What <c>dbt-relay init --target elementary</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "elementary", ["url"] = "https://YOUR_ELEMENTARY_WEBHOOK_URL", ["secret"] = "elementary-secret",
        ["description"] = "Triggers an Elementary Cloud sync. url and secret: from Elementary's dbt Cloud integration settings.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        node.AllowOnly([.. TargetTypes.CommonProperties, "url", "secret"]);
        var url = node["url"].Url(required: true);
        var secret = node["secret"].SecretName(required: true);
        return url is null || secret is null ? null : new ElementaryTarget(definition.Name, definition.Timeout, url, secret);
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        var body = Array.Empty<byte>();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Headers.TryAddWithoutValidation("Authorization",
            WebhookSignature.Compute(Encoding.UTF8.GetBytes(call.Secrets[signingSecret]), body));
        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return HttpOutcomes.Classify(response, "Elementary", call.Time.GetUtcNow());
    }
}
