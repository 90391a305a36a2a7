using System.Text;
using System.Text.Json.Nodes;
using DbtRelay.Config.Nodes;
using DbtRelay.Webhooks;

namespace DbtRelay.Targets;

/// <summary>
/// Any HTTP endpoint (Erathos, Slack, Teams, an internal API): method, url, headers and body are templates over the
/// event. Values are JSON-escaped in the body and percent-encoded in the URL, and the URL's scheme and host are
/// fixed in relay.json: a template can never redirect the call.
/// </summary>
public sealed class HttpTarget(
    string name,
    TimeSpan timeout,
    HttpMethod method,
    Template url,
    string origin,
    IReadOnlyList<(string Name, Template Value)> headers,
    JsonBodyTemplate? body,
    string contentType,
    IReadOnlySet<int>? successCodes,
    (string Header, string Secret, string Prefix)? signing) : IDeliveryTarget
{
    public const string TypeName = "http";
    private static readonly string[] Methods = ["POST", "PUT", "PATCH", "GET", "DELETE"];

    public string Name => name;

    /// <summary>The URL template as written in relay.json (placeholders unrendered, so no secret values).</summary>
    public string UrlSource => url.Source;
    public string Type => TypeName;
    public TimeSpan Timeout => timeout;

    public IReadOnlyList<string> SecretNames { get; } =
        url.SecretNames
            .Concat(headers.SelectMany(h => h.Value.SecretNames))
            .Concat(body?.SecretNames ?? [])
            .Concat(signing is { } s ? [s.Secret] : [])
            .Distinct()
            .ToArray();

    /// <summary>What <c>dbt-relay init --target http</c> writes: every property a user fills in, with placeholders.</summary>
    public static JsonObject Starter() => new()
    {
        ["type"] = "http", ["method"] = "POST", ["url"] = "https://example.com/hooks/dbt",
        ["headers"] = new JsonObject { ["Authorization"] = "Bearer {{secrets.http-token}}" },
        ["body"] = new JsonObject { ["text"] = "dbt job {{data.jobName}} run {{data.runId}} finished: {{data.runStatus}}" },
        ["description"] = "Calls any HTTP endpoint (Erathos, Slack, ...). Placeholders: {{eventId}}, {{data.*}}, {{vars.*}}, {{secrets.*}}.",
    };

    public static IDeliveryTarget? Create(TargetDefinition definition)
    {
        var node = definition.Node;
        var problems = node.Problems;
        var before = problems.Errors.Count;
        node.AllowOnly([.. TargetTypes.CommonProperties, "method", "url", "headers", "body", "contentType", "successCodes", "signing"]);
        var method = node["method"].OneOf(required: false, "post", Methods)?.ToUpperInvariant();
        var url = definition.Template("url", required: true);
        var origin = url is null ? null : Origin(url, node["url"]);

        var headers = new List<(string, Template)>();
        if (node["headers"].ExpectObject(required: false))
        {
            foreach (var header in node["headers"].Element.EnumerateObject())
            {
                var headerNode = node["headers"][header.Name];
                if (headerNode.Text(required: true) is { } text && Template.Parse(text, headerNode.Path, problems, definition.Vars) is { } template)
                    headers.Add((header.Name, template));
            }
        }

        var contentType = node["contentType"].Text(required: false) ?? "application/json";
        var body = JsonBodyTemplate.Parse(node["body"], contentType, definition.Vars);
        IReadOnlySet<int>? successCodes = null;
        if (node["successCodes"].Exists)
        {
            var codes = node["successCodes"].StringList().Select(c => int.TryParse(c, out var n) ? n : 0).ToHashSet();
            if (codes.Count == 0 || codes.Any(c => c is < 100 or > 599)) node["successCodes"].Error("must list HTTP status codes (100-599)");
            successCodes = codes;
        }

        (string, string, string)? signing = null;
        if (node["signing"].ExpectObject(required: false))
        {
            var s = node["signing"];
            s.AllowOnly("header", "secret", "prefix");
            var header = s["header"].Text(required: true);
            var secret = s["secret"].SecretName(required: true);
            if (header is not null && secret is not null) signing = (header, secret, s["prefix"].Text(required: false) ?? "");
        }

        if (problems.Errors.Count > before || method is null || url is null || origin is null) return null;
        return new HttpTarget(definition.Name, definition.Timeout, new HttpMethod(method), url, origin, headers, body, contentType, successCodes, signing);
    }

    /// <summary>The scheme and host must be literal text, so rendering can only change path, query and fragment.</summary>
    private static string? Origin(Template url, ConfigNode node)
    {
        var source = url.Source;
        var schemeEnd = source.IndexOf("://", StringComparison.Ordinal);
        var authorityEnd = schemeEnd < 0 ? -1 : source.IndexOfAny(['/', '?', '#'], schemeEnd + 3);
        var origin = authorityEnd < 0 ? source : source[..authorityEnd];
        if (origin.Contains("{{", StringComparison.Ordinal))
        {
            node.Error("the scheme and host must be literal: placeholders are allowed only in the path and query");
            return null;
        }
        if (origin.Contains('@', StringComparison.Ordinal))
        {
            // The origin is what logs, spans and dead letters name: credentials there would be everywhere.
            node.Error("must not hold credentials (user:password@): send them in a header, such as \"Authorization\": \"Basic {{secrets.NAME}}\"");
            return null;
        }
        if (ConfigNode.ValidUrl(origin + "/", out var problem) is null)
        {
            node.Error(problem);
            return null;
        }
        return origin;
    }

    /// <summary>
    /// A path segment that holds a '.' or '..' segment once percent-decoded, also between encoded slashes or
    /// backslashes: some servers and gateways decode <c>%2F</c> before they normalize the path.
    /// </summary>
    private static string? DotSegment(string pathAndQuery)
    {
        var path = pathAndQuery.Split('?', '#')[0];
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length > 0 && Array.Exists(Uri.UnescapeDataString(segment).Split('/', '\\'), part => part is "." or "..")) return segment;
        }
        return null;
    }

    public async Task<TargetOutcome> DeliverAsync(TargetCall call, CancellationToken cancellationToken)
    {
        var rendered = url.Render(call.Values, TemplateEscape.Url);
        if (DotSegment(rendered[origin.Length..]) is { } dots)
        {
            // Values cannot add a '/', but a whole segment of '.' or '..' would still climb the path once normalized.
            return new Failed($"the rendered URL has a '{dots}' path segment, which would move the call elsewhere on {origin}; refusing to call it");
        }
        var target = new Uri(rendered);
        if (!string.Equals(target.GetLeftPart(UriPartial.Authority), new Uri(origin + "/").GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase))
        {
            return new Failed($"the rendered URL left {origin}; refusing to call it");
        }
        using var request = new HttpRequestMessage(method, target);
        var content = body?.Render(call.Values);
        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        foreach (var (header, template) in headers)
        {
            var value = template.Render(call.Values, TemplateEscape.None);
            if (value.Any(c => c != '\t' && char.IsControl(c))) return new Failed($"header {header} would contain a line break or another control character");
            if (!request.Headers.TryAddWithoutValidation(header, value)) request.Content?.Headers.TryAddWithoutValidation(header, value);
        }
        if (signing is var (signatureHeader, secret, prefix))
        {
            request.Headers.TryAddWithoutValidation(signatureHeader, prefix + WebhookSignature.Compute(Encoding.UTF8.GetBytes(call.Secrets[secret]), content ?? []));
        }

        using var response = await call.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var code = (int)response.StatusCode;
        // Only the origin is ever reported: a path or query may carry a secret.
        if (successCodes is null) return HttpOutcomes.Classify(response, origin, call.Time.GetUtcNow());
        if (successCodes.Contains(code)) return new CallAccepted($"{origin} answered {code}") { HttpStatus = code };
        var classified = HttpOutcomes.Classify(response, origin, call.Time.GetUtcNow());
        return classified is CallAccepted ? new Failed($"{origin} answered {code}, which is not one of the configured successCodes") { HttpStatus = code } : classified;
    }
}
