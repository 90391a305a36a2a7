using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using DbtRelay.History;

namespace DbtRelay.Testing;

/// <summary>
/// <c>dbt-relay serve</c> as a real child process (the CLI built next to the tests), for what only a process can
/// show: a SIGKILL, a restart on the same data, several instances side by side.
/// </summary>
public sealed partial class ServeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServeProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public Uri Webhook { get; private set; } = null!;

    public string Output => string.Join('\n', _output);

    /// <summary>Starts serve on a free port; with no <paramref name="configPath"/> it runs in <paramref name="workingDirectory"/> as is (the demo when there is no relay.json).</summary>
    public static async Task<ServeProcess> StartAsync(string? configPath, IEnumerable<string> storeArguments, IDictionary<string, string> environment,
        string? workingDirectory = null)
    {
        var start = Start(workingDirectory ?? Path.GetTempPath(),
            ["serve", .. configPath is null ? Array.Empty<string>() : ["--config", configPath], "--urls", "http://127.0.0.1:0", .. storeArguments]);
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__DbtRelay"] = "Warning";
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var serve = new ServeProcess(Process.Start(start)!);
        for (var waited = 0; waited < 600; waited++)
        {
            if (serve._output.Select(l => Listening().Match(l)).FirstOrDefault(m => m.Success) is { } match)
            {
                serve.Webhook = new Uri(match.Groups[1].Value);
                return serve;
            }
            if (serve._process.HasExited) break;
            await Task.Delay(100);
        }
        var output = serve.Output;
        await serve.DisposeAsync();
        throw new InvalidOperationException($"serve did not start:\n{output}");
    }

    /// <summary>POSTs a dbt webhook body to this serve, signed with <paramref name="secret"/> as dbt signs it; the answer's status.</summary>
    public async Task<HttpStatusCode> SendSignedAsync(HttpClient http, string body, string secret)
    {
        var bytes = DbtPayloads.Bytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, Webhook) { Content = new ByteArrayContent(bytes) };
        request.Headers.TryAddWithoutValidation("Authorization", DbtPayloads.Sign(secret, bytes));
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>An event's timeline from the events API at <paramref name="api"/> (this serve, or one restarted on its data); null while it is not there.</summary>
    public static async Task<EventTimeline?> TimelineAsync(HttpClient http, Uri api, string eventId, string adminKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(api, $"/api/events/{eventId}"));
        request.Headers.TryAddWithoutValidation("x-relay-admin-key", adminKey);
        using var response = await http.SendAsync(request);
        return response.StatusCode == HttpStatusCode.OK ? HistoryJson.DeserializeTimeline(await response.Content.ReadAsByteArrayAsync()) : null;
    }

    /// <summary>The dbt-relay command line built next to the tests, run to completion: exit code, stdout, stderr.</summary>
    public static async Task<(int Exit, string Out, string Err)> RunCliAsync(string workingDirectory, IDictionary<string, string>? environment, params string[] arguments)
    {
        var start = Start(workingDirectory, arguments);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var cli = Process.Start(start)!;
        var output = cli.StandardOutput.ReadToEndAsync();
        var error = cli.StandardError.ReadToEndAsync();
        await cli.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        return (cli.ExitCode, await output, await error);
    }

    private static ProcessStartInfo Start(string workingDirectory, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dbt-relay.dll"));
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }

    /// <summary>SIGKILL: no drain, no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// SIGTERM (docker stop, systemd), which serve handles exactly as Ctrl+C: it drains what is due and exits. Not
    /// SIGINT, which a process started in the background by a non-interactive shell inherits as ignored.
    /// </summary>
    public async Task StopGracefullyAsync()
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        try
        {
            // Beyond serve's own 90 s shutdown timeout: a slow drain on a loaded machine is not a hang, a process
            // still running after its host gave up is.
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(100));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"serve did not exit within 100 s of SIGTERM:\n{Output}");
        }
    }

    [GeneratedRegex(@"listening: POST (http://\S+/api/dbt/webhook)")]
    private static partial Regex Listening();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) await KillAsync();
        _process.Dispose();
    }
}
