using System.Diagnostics;

namespace DbtRelay.Benchmarks;

/// <summary>
/// <c>serve --in-memory</c> of a given build (this one, or an earlier one to compare with) as its own process on a
/// free loopback port, so two builds meet the same load in the same run.
/// </summary>
internal sealed class ServeUnderLoad : IAsyncDisposable
{
    private readonly Process _process;

    private ServeUnderLoad(Process process, string url)
    {
        _process = process;
        Url = url;
    }

    public string Url { get; }

    public static async Task<ServeUnderLoad> StartAsync(string dll, string config, string secret)
    {
        var port = DbtRelay.Testing.LocalMachine.FreePort();
        var start = new ProcessStartInfo("dotnet", [dll, "serve", "--in-memory", "--config", config, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                [$"Secrets__{secret}"] = secret,
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__DbtRelay"] = "Warning",
            },
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {dll}");
        // Drained so a chatty build never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var serve = new ServeUnderLoad(process, $"http://127.0.0.1:{port}");
        using var http = new HttpClient();
        for (var deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !process.HasExited; await Task.Delay(100))
        {
            try
            {
                if ((await http.GetAsync($"{serve.Url}/api/health")).IsSuccessStatusCode) return serve;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
        }
        await serve.DisposeAsync();
        throw new InvalidOperationException($"{dll} serve did not answer /api/health within 60 s");
    }

    public async ValueTask DisposeAsync()
    {
        // In memory and measured only: nothing to drain.
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
