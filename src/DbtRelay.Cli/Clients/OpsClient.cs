using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.Json;

namespace DbtRelay.Cli.Clients;

/// <summary>
/// What <c>events</c>, <c>trace</c> and <c>redeliver</c> share: the relay's base URL, the admin key (sent as
/// <c>x-relay-admin-key</c> for serve and <c>x-functions-key</c> for a Function App, to that one origin), and one
/// line per failure. The key goes only over https or to this machine, and never follows a redirect.
/// </summary>
internal sealed class OpsClient(Uri baseUrl, string? key, TextWriter error)
{
    public const string KeyVariable = "DBT_RELAY_ADMIN_KEY";

    public static Option<Uri?> UrlOption()
    {
        var url = RelayCli.UrlOption("--url", "The relay: dbt-relay serve, or the Function App (https://APP.azurewebsites.net).", aliases: "-u");
        url.DefaultValueFactory = _ => new Uri(RelayCli.DefaultUrl);
        return url;
    }

    public static Option<string?> KeyOption() => new("--key", "-k")
    {
        Description = $"serve's relay-admin-key, or a Function App function key (default: ${KeyVariable}).",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print the API's JSON as is, for scripts." };

    public static OpsClient From(ParseResult parse, Option<Uri?> url, Option<string?> key, TextWriter error) =>
        new(parse.GetValue(url)!, parse.GetValue(key) ?? Environment.GetEnvironmentVariable(KeyVariable), error);

    /// <summary>The answer's JSON and status, or null (with one line on stderr) when there is no usable answer.</summary>
    public async Task<(int Status, JsonDocument Body, string Raw)?> SendAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken)
    {
        var root = baseUrl.AbsoluteUri.TrimEnd('/');
        if (!string.IsNullOrEmpty(key) && !RelayCli.MayCarryCredentials(baseUrl))
        {
            error.WriteLine($"Not sending the admin key to {root} over plain http: use its https address (a Function App has one), or run this on the relay's machine.");
            return null;
        }
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(method, $"{root}/api/{pathAndQuery}");
        if (!string.IsNullOrEmpty(key))
        {
            request.Headers.TryAddWithoutValidation("x-relay-admin-key", key);
            request.Headers.TryAddWithoutValidation("x-functions-key", key);
        }
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            error.WriteLine($"Cannot reach {root}: {ex.Message}. Is dbt-relay serve running there (or pass --url)?");
            return null;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            error.WriteLine($"{root} did not answer within 30 s.");
            return null;
        }
        using (response)
        {
            var raw = await response.Content.ReadAsStringAsync(cancellationToken);
            var status = (int)response.StatusCode;
            if (status is >= 300 and < 400)
            {
                var to = response.Headers.Location is { IsAbsoluteUri: true } location ? $" to {DbtRelay.Telemetry.UrlOrigin.Of(location)}" : "";
                error.WriteLine($"{root} answered {status}, a redirect{to}; not following it with the key. Pass the relay's own address as --url.");
                return null;
            }
            if (status == 401)
            {
                error.WriteLine(string.IsNullOrEmpty(key)
                    ? $"{root} wants a key: pass --key, or set {KeyVariable}."
                    : $"{root} refused the key (serve: the secret relay-admin-key; Functions: a function key).");
                return null;
            }
            JsonDocument? body = null;
            try
            {
                if (raw.Length > 0) body = JsonDocument.Parse(raw);
            }
            catch (JsonException)
            {
                // Not the relay's answer (a proxy page, another app): said below.
            }
            if (body is null)
            {
                error.WriteLine(status == 404
                    ? $"No events API at {root}. serve turns it on only when the secret relay-admin-key is set (Secrets__relay-admin-key)."
                    : $"{root} answered {status} without the relay's JSON.");
                return null;
            }
            return (status, body, raw);
        }
    }

    /// <summary>
    /// GETs one resource and prints it: the API's JSON as is with <paramref name="json"/>, else through
    /// <paramref name="print"/>. Exit code 0, 1 when the relay refused the request, 2 when there was no usable answer.
    /// </summary>
    public async Task<int> ShowAsync(string pathAndQuery, bool json, TextWriter output, Action<byte[]> print, CancellationToken cancellationToken)
    {
        if (await SendAsync(HttpMethod.Get, pathAndQuery, cancellationToken) is not { } answer) return 2;
        using (answer.Body)
        {
            if (Refused(answer)) return 1;
        }
        if (json) output.WriteLine(answer.Raw);
        else print(System.Text.Encoding.UTF8.GetBytes(answer.Raw));
        return 0;
    }

    /// <summary>Prints the relay's own error sentence for a refused request.</summary>
    public bool Refused((int Status, JsonDocument Body, string Raw) answer)
    {
        if (answer.Status < 400) return false;
        error.WriteLine(answer.Body.RootElement.TryGetProperty("message", out var message) ? message.GetString() : $"The relay answered {answer.Status}.");
        return true;
    }
}
