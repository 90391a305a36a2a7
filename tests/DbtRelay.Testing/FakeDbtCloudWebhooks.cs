using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace DbtRelay.Testing;

/// <summary>
/// dbt Cloud's webhooks API v3: <c>GET|POST /api/v3/accounts/{a}/webhooks/subscriptions</c> (POST answers 201 with
/// <c>hmac_secret</c>, shown only then), <c>PUT|DELETE /api/v3/accounts/{a}/webhooks/subscription/{id}</c> and
/// <c>GET …/subscription/{id}/test</c>; <c>Authorization: Token</c>, envelope <c>{"data": …, "status": …}</c>.
/// </summary>
public sealed class FakeDbtCloudWebhooks(string token, long accountId) : FakeApi
{
    public const string HmacSecret = "hmac-4bd1f0c1e2d3a4b5c6d7e8f9";

    /// <summary>The most a page holds, whatever limit is asked (so the client's paging is exercised).</summary>
    public int MaxPageSize { get; set; } = 100;

    /// <summary>Writes <c>total_count</c> as a string, as a lenient JSON producer might.</summary>
    public bool TotalCountAsText { get; set; }

    public ConcurrentDictionary<string, JsonObject> Subscriptions { get; } = new();

    protected override async Task AnswerAsync(HttpContext context, ReceivedRequest request)
    {
        if (request.Header("Authorization") != $"Token {token}")
        {
            await Status(context, 401, "Invalid token.");
            return;
        }
        var path = request.PathAndQuery.Split('?')[0].Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (path is not ["api", "v3", "accounts", var account, "webhooks", ..] || account != accountId.ToString(CultureInfo.InvariantCulture))
        {
            await Status(context, 404, "Account not found.");
            return;
        }
        switch (request.Method, path[5..])
        {
            case ("GET", ["subscriptions"]):
                // Paged as the API pages: offset/limit (default 10, at most 100), the total in extra.pagination.
                var query = System.Web.HttpUtility.ParseQueryString(request.PathAndQuery.Contains('?', StringComparison.Ordinal) ? request.PathAndQuery.Split('?', 2)[1] : "");
                var offset = int.TryParse(query["offset"], out var o) ? o : 0;
                var limit = Math.Min(int.TryParse(query["limit"], out var l) ? l : 10, MaxPageSize);
                var ordered = Subscriptions.Values.OrderBy(s => s["id"]!.ToString(), StringComparer.Ordinal).ToList();
                var page = ordered.Skip(offset).Take(limit).Select(s => (JsonNode)s.DeepClone()).ToList();
                await Data(context, 200, new JsonArray([.. page]), new JsonObject
                {
                    ["filters"] = new JsonObject { ["offset"] = offset, ["limit"] = limit },
                    ["order_by"] = "id",
                    ["pagination"] = new JsonObject
                    {
                        ["count"] = page.Count,
                        ["total_count"] = TotalCountAsText ? JsonValue.Create(ordered.Count.ToString(CultureInfo.InvariantCulture)) : JsonValue.Create(ordered.Count),
                    },
                });
                return;
            case ("POST", ["subscriptions"]):
                var created = JsonNode.Parse(request.Body)!.AsObject();
                var id = $"wsu_{Subscriptions.Count + 1:D6}";
                var stored = Subscription(id, created);
                Subscriptions[id] = stored;
                var answer = (JsonObject)stored.DeepClone();
                answer["hmac_secret"] = HmacSecret;
                await Data(context, 201, answer);
                return;
            case ("PUT", ["subscription", var existing]) when Subscriptions.ContainsKey(existing):
                Subscriptions[existing] = Subscription(existing, JsonNode.Parse(request.Body)!.AsObject());
                await Data(context, 200, Subscriptions[existing].DeepClone());
                return;
            case ("DELETE", ["subscription", var gone]) when Subscriptions.TryRemove(gone, out var removed):
                await Data(context, 200, removed);
                return;
            case ("GET", ["subscription", var tested, "test"]) when Subscriptions.ContainsKey(tested):
                await Data(context, 200, new JsonObject { ["verification_error"] = null, ["verification_status"] = "success" });
                return;
            default:
                await Status(context, 404, "Not found.");
                return;
        }
    }

    private static JsonObject Subscription(string id, JsonObject written) => new()
    {
        ["id"] = id,
        ["account_identifier"] = "act_1",
        ["name"] = written["name"]?.DeepClone(),
        ["client_url"] = written["client_url"]?.DeepClone(),
        ["event_types"] = written["event_types"]?.DeepClone(),
        // The API answers job ids as strings.
        ["job_ids"] = new JsonArray([.. (written["job_ids"] as JsonArray ?? []).Select(j => (JsonNode)JsonValue.Create(j!.ToString())!)]),
        ["active"] = written["active"]?.DeepClone() ?? true,
        ["http_status_code"] = null,
    };

    private static Task Data(HttpContext context, int code, JsonNode data, JsonObject? extra = null)
    {
        context.Response.StatusCode = code;
        var answer = new JsonObject { ["data"] = data, ["status"] = new JsonObject { ["code"] = code, ["is_success"] = true } };
        if (extra is not null) answer["extra"] = extra;
        return context.Response.WriteAsync(answer.ToJsonString());
    }

    private static Task Status(HttpContext context, int code, string message)
    {
        context.Response.StatusCode = code;
        return context.Response.WriteAsync(JsonSerializer.Serialize(new { data = (object?)null, status = new { code, is_success = false, user_message = message } }));
    }
}
