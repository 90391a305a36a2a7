using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace DbtRelay.Testing;

/// <summary>
/// The Functions app as users run it: the test build's app output (functions.metadata, worker.config.json,
/// extensions.json, .azurefunctions/) copied to a folder of its own with the test's relay.json, run by a real Azure
/// Functions host on a free loopback port, with Azurite as its storage. The host is found where a user has it:
/// the folder <see cref="FolderVariable"/> names (Core Tools' <c>func</c>, or a host build holding
/// Microsoft.Azure.WebJobs.Script.WebHost.dll), else <c>func</c> on PATH. Without one the test is skipped and says
/// why; with <see cref="RequireVariable"/>=1 (CI) it fails instead.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    public const string FolderVariable = "DBT_RELAY_FUNCTIONS_HOST";
    public const string RequireVariable = "DBT_RELAY_REQUIRE_FUNCTIONS_HOST";
    private const string WebHostDll = "Microsoft.Azure.WebJobs.Script.WebHost.dll";

    private static readonly Lazy<(ProcessStartInfo? Start, string Reason)> Found = new(Find);

    private readonly Process _process;
    private readonly ConcurrentQueue<(TimeSpan At, string Line)> _output = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private bool _ownsAppDirectory;

    private FunctionsHost(Process process, string appDirectory, bool ownsAppDirectory, Uri baseUrl, string masterKey, string functionKey)
    {
        _process = process;
        _ownsAppDirectory = ownsAppDirectory;
        AppDirectory = appDirectory;
        BaseUrl = baseUrl;
        MasterKey = masterKey;
        FunctionKey = functionKey;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue((_clock.Elapsed, e.Data)); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue((_clock.Elapsed, e.Data)); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>http://127.0.0.1:PORT/ of the host.</summary>
    public Uri BaseUrl { get; }

    public string AppDirectory { get; }

    public string MasterKey { get; }

    /// <summary>The host's default function key: what <c>az functionapp keys list</c> shows in Azure.</summary>
    public string FunctionKey { get; }

    /// <summary>Everything the host printed (its console log, which includes the worker's lines), so far, each line with the seconds since start.</summary>
    public string Output => string.Join('\n', _output.Select(o => $"[{o.At.TotalSeconds,7:F2}] {o.Line}"));

    public bool HasExited => _process.HasExited;

    public Uri Url(string pathAndQuery) => new(BaseUrl, pathAndQuery);

    public static bool IsInstalled => Found.Value.Start is not null;

    /// <summary>Skips the test (or fails it, where the host is required) when no Functions host is installed.</summary>
    public static void RequireInstalled()
    {
        if (Found.Value.Start is not null) return;
        if (Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.Fail($"A Functions host is required here ({RequireVariable}=1) but none was found: {Found.Value.Reason}");
        }
        Skip.If(true, $"No Azure Functions host: {Found.Value.Reason}");
    }

    /// <summary>
    /// Copies the app, writes <paramref name="relayJson"/> beside it, starts the host on a free port and, unless told
    /// otherwise, waits until it reports Running (a few seconds).
    /// </summary>
    public static Task<FunctionsHost> StartAsync(string relayJson, string storageConnectionString, IReadOnlyDictionary<string, string> settings,
        bool waitUntilRunning = true) =>
        StartAsync(relayJson, storageConnectionString, settings, waitUntilRunning, CopyApp());

    private static async Task<FunctionsHost> StartAsync(string relayJson, string storageConnectionString, IReadOnlyDictionary<string, string> settings,
        bool waitUntilRunning, string appDirectory)
    {
        RequireInstalled();
        await File.WriteAllTextAsync(Path.Combine(appDirectory, "relay.json"), relayJson);
        var state = Directory.CreateDirectory(Path.Combine(appDirectory, ".host-state")).FullName;
        var (masterKey, functionKey) = await WriteKeysAsync(Path.Combine(state, "secrets"));
        var port = LocalMachine.FreePort();

        var found = Found.Value.Start!;
        var start = new ProcessStartInfo(found.FileName)
        {
            WorkingDirectory = found.WorkingDirectory is { Length: > 0 } dir ? dir : appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in found.ArgumentList) start.ArgumentList.Add(argument);
        if (found.FileName.EndsWith("func", StringComparison.Ordinal)) start.ArgumentList.Add(port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // What `func start` sets for the host it runs; the app's settings are ordinary environment variables.
        start.Environment["AzureWebJobsScriptRoot"] = appDirectory;
        start.Environment["AzureWebJobsStorage"] = storageConnectionString;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["WEBSITE_HOSTNAME"] = $"localhost:{port}";
        start.Environment["AzureWebJobsSecretStorageType"] = "files";
        start.Environment["FUNCTIONS_SECRETS_PATH"] = Path.Combine(state, "secrets");
        start.Environment["FUNCTIONS_LOG_PATH"] = Path.Combine(state, "logs");
        // The host build targets net8.0; run it on whatever newer runtime is installed.
        start.Environment["DOTNET_ROLL_FORWARD"] = "Major";
        // Set in Azure, where it makes the host act as Linux Consumption; never inherited by a local host.
        start.Environment.Remove("CONTAINER_NAME");
        foreach (var (key, value) in settings) start.Environment[key] = value;

        var host = new FunctionsHost(Process.Start(start)!, appDirectory, ownsAppDirectory: true, new Uri($"http://127.0.0.1:{port}/"), masterKey, functionKey);
        if (!waitUntilRunning) return host;
        try
        {
            await host.WaitUntilRunningAsync();
            return host;
        }
        catch
        {
            await host.KillAsync();
            host._process.Dispose();
            throw;
        }
    }

    /// <summary>Waits for <c>GET /admin/host/status</c> (master key) to say Running; fails with the host's output if it exits or takes over a minute.</summary>
    public async Task WaitUntilRunningAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, Url("admin/host/status"));
                request.Headers.Add("x-functions-key", MasterKey);
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode &&
                    JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("state").GetString() == "Running")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
            {
                // not listening yet
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"The Functions host did not report Running ({(_process.HasExited ? $"it exited with {_process.ExitCode}" : "timed out")}):\n{Output}");
    }

    /// <summary>Waits until the host's output has a line matching <paramref name="predicate"/>.</summary>
    public async Task<string> WaitForOutputAsync(Func<string, bool> predicate, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline)
        {
            if (_output.Select(o => o.Line).FirstOrDefault(predicate) is { } line) return line;
            await Task.Delay(100);
        }
        throw new TimeoutException($"The host did not print the expected line within {bound.TotalSeconds:F0} s:\n{Output}");
    }

    /// <summary>SIGKILL to the host, its worker and whatever launched them: nothing drains, no message is completed or abandoned.</summary>
    public async Task KillAsync()
    {
        if (_process.HasExited) return; // its id may belong to another process by now
        var tree = ProcessTree.Of(_process.Id);
        await ProcessTree.SignalAsync(tree, "KILL");
        await ProcessTree.WaitForExitAsync(tree, TimeSpan.FromSeconds(10));
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM to the whole tree (graceful: listeners stop, running invocations finish), then SIGKILL after 20 s.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited) return;
        var tree = ProcessTree.Of(_process.Id);
        await ProcessTree.SignalAsync(tree, "TERM");
        if (!await ProcessTree.WaitForExitAsync(tree, TimeSpan.FromSeconds(20))) await ProcessTree.SignalAsync(tree, "KILL");
        await _process.WaitForExitAsync();
    }

    /// <summary>The same app folder (relay.json, keys and all), started again after this host stopped: a restart after a crash.</summary>
    public async Task<FunctionsHost> RestartAsync(string storageConnectionString, IReadOnlyDictionary<string, string> settings)
    {
        var restarted = await StartAsync(await File.ReadAllTextAsync(Path.Combine(AppDirectory, "relay.json")), storageConnectionString, settings, true, AppDirectory);
        _ownsAppDirectory = false; // the restarted host removes it
        return restarted;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        if (_ownsAppDirectory) Directory.Delete(AppDirectory, recursive: true);
    }

    /// <summary>The app output the test build made (the same configuration as this test assembly).</summary>
    private static string CopyApp()
    {
        var configuration = typeof(FunctionsHost).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var built = Path.Combine(Repository.Root(), "src", "DbtRelay.Functions", "bin", configuration, "net10.0");
        if (!File.Exists(Path.Combine(built, "functions.metadata")) || !Directory.Exists(Path.Combine(built, ".azurefunctions")))
        {
            throw new InvalidOperationException($"{built} holds no built Functions app (functions.metadata, .azurefunctions/): build Functions.sln first.");
        }
        var copy = Path.Combine(Path.GetTempPath(), $"dbt-relay-fn-{Guid.NewGuid():N}");
        foreach (var file in Directory.EnumerateFiles(built, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(copy, Path.GetRelativePath(built, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        File.Delete(Path.Combine(copy, "local.settings.json"));
        return copy;
    }

    /// <summary>
    /// The host's key file as it writes it itself (file secret storage), with known values, so the tests need not
    /// wait for the host to create and disclose them.
    /// </summary>
    private static async Task<(string Master, string Function)> WriteKeysAsync(string secretsDirectory)
    {
        Directory.CreateDirectory(secretsDirectory);
        var file = Path.Combine(secretsDirectory, "host.json");
        if (File.Exists(file))
        {
            using var existing = JsonDocument.Parse(await File.ReadAllTextAsync(file));
            return (existing.RootElement.GetProperty("masterKey").GetProperty("value").GetString()!,
                existing.RootElement.GetProperty("functionKeys")[0].GetProperty("value").GetString()!);
        }
        var (master, function) = (Key(), Key());
        await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new
        {
            masterKey = new { name = "master", value = master, encrypted = false },
            functionKeys = new[] { new { name = "default", value = function, encrypted = false } },
            systemKeys = Array.Empty<object>(),
        }));
        return (master, function);
    }

    private static string Key() => Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(30)).Replace('+', '-').Replace('/', '_');

    private static (ProcessStartInfo? Start, string Reason) Find()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } folder)
        {
            if (File.Exists(Path.Combine(folder, "func"))) return (FuncStart(Path.Combine(folder, "func")), "");
            foreach (var hostDirectory in new[] { folder, Path.Combine(folder, "host") })
            {
                if (File.Exists(Path.Combine(hostDirectory, WebHostDll)))
                {
                    // The host's content root is its own folder, as when func or App Service runs it.
                    var start = new ProcessStartInfo(dotnet) { WorkingDirectory = hostDirectory };
                    start.ArgumentList.Add(Path.Combine(hostDirectory, WebHostDll));
                    return (start, "");
                }
            }
            return (null, $"{FolderVariable}={folder} holds neither func nor {WebHostDll} (nor host/{WebHostDll}).");
        }
        var onPath = LocalMachine.OnPath("func");
        return onPath is not null
            ? (FuncStart(onPath), "")
            : (null, $"install Azure Functions Core Tools v4 (func on PATH), or set {FolderVariable} to a folder holding func or a host build.");
    }

    /// <summary>Core Tools in the app folder; auth is on, as in Azure (func leaves keys unchecked locally otherwise). The port is appended.</summary>
    private static ProcessStartInfo FuncStart(string func)
    {
        var start = new ProcessStartInfo(func);
        foreach (var argument in new[] { "start", "--enableAuth", "--port" }) start.ArgumentList.Add(argument);
        return start;
    }
}
