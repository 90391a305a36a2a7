using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DbtRelay.Cli.Clients;

/// <summary>
/// dbt Cloud's webhook subscriptions, API v3: <c>{accessUrl}/api/v3/accounts/{account}/webhooks/subscriptions</c>
/// (list, create) and <c>…/webhooks/subscription/{id}</c> (update, delete, <c>/test</c>), <c>Authorization: Token</c>.
/// Failures come back as <see cref="DbtCloudApiException"/> with a sentence a person can act on.
/// </summary>
internal sealed class DbtCloudWebhookSubscriptions(HttpClient http, Uri accessUrl, long accountId, string token)
{
    /// <summary>One subscription; <see cref="HttpStatusCode"/> and <see cref="DispatchedAt"/> describe its last delivery, when there was one.</summary>
    public sealed record Subscription(string Id, string Name, string ClientUrl, IReadOnlyList<string> EventTypes, IReadOnlyList<string> JobIds, bool Active)
    {
        public string? HttpStatusCode { get; init; }
        public string? DispatchedAt { get; init; }
    }

    private Uri Url(string path) => new(accessUrl, $"api/v3/accounts/{accountId}/{path}");

    /// <summary>Pages asked for; dbt may answer fewer per page (its default is 10), which the paging follows.</summary>
    private const int PageSize = 100;
    private const int MaxPages = 100;

    /// <summary>
    /// Every subscription, page by page (<c>offset</c>/<c>limit</c>, until <c>extra.pagination.total_count</c> or an
    /// empty page): with only the first page, <c>create</c> would miss an existing subscription and add a second one.
    /// </summary>
    public async Task<IReadOnlyList<Subscription>> ListAsync(CancellationToken cancellationToken)
    {
        var all = new List<Subscription>();
        for (var page = 0; page < MaxPages; page++)
        {
            var (data, extra) = await SendWithExtraAsync(HttpMethod.Get, $"webhooks/subscriptions?offset={all.Count}&limit={PageSize}", null, cancellationToken);
            var items = data is JsonArray list ? list.OfType<JsonObject>().Select(Read).ToList() : [];
            // A page of ids already seen means the offset was not applied: stop rather than list them again.
            var fresh = items.Where(item => all.TrueForAll(seen => seen.Id != item.Id)).ToList();
            all.AddRange(fresh);
            if (fresh.Count == 0 || TotalCount(extra) is not { } total || all.Count >= total) return all;
        }
        throw new DbtCloudApiException($"dbt Cloud listed more than {MaxPages} pages of webhook subscriptions; stopped there.");
    }

    /// <summary><c>extra.pagination.total_count</c> as a number (or a numeric string); null when absent or odd.</summary>
    private static long? TotalCount(JsonNode? extra) => extra?["pagination"]?["total_count"] switch
    {
        JsonValue value when value.TryGetValue<long>(out var n) => n,
        JsonValue value when value.TryGetValue<string>(out var text) && long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    /// <summary>Creates a subscription; returns it with the signing secret dbt shows only once.</summary>
    public async Task<(Subscription Subscription, string HmacSecret)> CreateAsync(string name, Uri endpoint, IReadOnlyList<string> eventTypes,
        IReadOnlyList<long> jobIds, CancellationToken cancellationToken)
    {
        var data = await SendAsync(HttpMethod.Post, "webhooks/subscriptions", Body(name, endpoint, eventTypes, jobIds), cancellationToken) as JsonObject
            ?? throw new DbtCloudApiException("dbt Cloud answered the create without a subscription.");
        var secret = data["hmac_secret"]?.GetValue<string>()
            ?? throw new DbtCloudApiException("dbt Cloud created the subscription but returned no hmac_secret; delete it and try again.");
        return (Read(data), secret);
    }

    public async Task<Subscription> UpdateAsync(string id, string name, Uri endpoint, IReadOnlyList<string> eventTypes, IReadOnlyList<long> jobIds,
        CancellationToken cancellationToken)
    {
        var body = Body(name, endpoint, eventTypes, jobIds);
        body["id"] = id;
        return Read(await SendAsync(HttpMethod.Put, $"webhooks/subscription/{Uri.EscapeDataString(id)}", body, cancellationToken) as JsonObject
            ?? throw new DbtCloudApiException("dbt Cloud answered the update without a subscription."));
    }

    public Task DeleteAsync(string id, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, $"webhooks/subscription/{Uri.EscapeDataString(id)}", null, cancellationToken);

    /// <summary>Asks dbt Cloud to send a test event to the subscription; returns what dbt reports.</summary>
    public async Task<string> TestAsync(string id, CancellationToken cancellationToken)
    {
        var data = await SendAsync(HttpMethod.Get, $"webhooks/subscription/{Uri.EscapeDataString(id)}/test", null, cancellationToken);
        return data?.ToJsonString() ?? "{}";
    }

    private static JsonObject Body(string name, Uri endpoint, IReadOnlyList<string> eventTypes, IReadOnlyList<long> jobIds) => new()
    {
        ["name"] = name,
        ["client_url"] = endpoint.ToString(),
        ["event_types"] = new JsonArray([.. eventTypes.Select(e => (JsonNode)JsonValue.Create(e)!)]),
        ["job_ids"] = new JsonArray([.. jobIds.Select(j => (JsonNode)JsonValue.Create(j)!)]),
        ["active"] = true,
    };

    private static Subscription Read(JsonObject data) => new(
        data["id"]?.ToString() ?? "?",
        data["name"]?.ToString() ?? "",
        data["client_url"]?.ToString() ?? "",
        data["event_types"] is JsonArray events ? [.. events.Select(e => e!.ToString())] : [],
        data["job_ids"] is JsonArray jobs ? [.. jobs.Select(j => j!.ToString())] : [],
        data["active"]?.GetValue<bool>() ?? false)
    {
        HttpStatusCode = data["http_status_code"]?.ToString() is { Length: > 0 and <= 8 } code ? code : null,
        DispatchedAt = data["dispatched_at"]?.ToString() is { Length: > 0 and <= 40 } at ? at : null,
    };

    private async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken) =>
        (await SendWithExtraAsync(method, path, body, cancellationToken)).Data;

    private async Task<(JsonNode? Data, JsonNode? Extra)> SendWithExtraAsync(HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, Url(path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Token", token);
        request.Headers.Accept.ParseAdd("application/json");
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DbtCloudApiException($"Could not reach dbt Cloud at {accessUrl}: {ex.Message}. Check --access-url (your region's access URL).");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode) throw new DbtCloudApiException(Explain(response, text));
            if (text.Length == 0) return (null, null);
            try
            {
                var answer = JsonNode.Parse(text);
                return (answer?["data"], answer?["extra"]);
            }
            catch (JsonException)
            {
                throw new DbtCloudApiException($"dbt Cloud answered {(int)response.StatusCode} with a body that is not JSON; is {accessUrl} a dbt Cloud access URL?");
            }
        }
    }

    private string Explain(HttpResponseMessage response, string body)
    {
        var message = TryMessage(body);
        return response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "dbt Cloud refused the token (401): set DBT_CLOUD_API_TOKEN to a valid account-admin or webhooks service token.",
            HttpStatusCode.Forbidden => $"The token may not manage webhooks of account {accountId} (403){message}: give the service token the Webhooks Only or Account Admin permission.",
            HttpStatusCode.NotFound => $"dbt Cloud found no such account or subscription (404){message}: check --account-id {accountId} and --access-url {accessUrl}.",
            HttpStatusCode.TooManyRequests => $"dbt Cloud is rate limiting (429); try again in {response.Headers.RetryAfter?.Delta?.TotalSeconds ?? 60:F0} s.",
            _ => $"dbt Cloud answered {(int)response.StatusCode}{message}.",
        };
    }

    private static string TryMessage(string body)
    {
        try
        {
            var status = JsonNode.Parse(body)?["status"];
            return status?["user_message"]?.ToString() is { Length: > 0 } text ? $": {text}" : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }
}
