using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DbtRelay.Testing;

/// <summary>
/// Azurite, the Azure Storage emulator, started once per test assembly on free loopback ports, its data in a temporary
/// folder removed when it stops. Not <c>--inMemoryPersistence</c>: in memory every message and blob is an extent of its
/// own, and Azurite's garbage collection of a few thousand of them blocks its only thread for minutes at full CPU (seen
/// under the Functions host after a burst), where on disk they share a few files. Found in <c>.ci/azurite</c> (installed there with npm when Node is present), or
/// used as given by AZURITE_CONNECTION_STRING. Without Node the tests that need it are skipped and say why;
/// with DBT_RELAY_REQUIRE_AZURITE=1 (CI) they fail instead, so a CI run can never pass by skipping them.
/// A test may start its own: as a user runs it without <c>--skipApiVersionCheck</c>, or with a clock it can move
/// forward (a message the Functions host took before a crash stays invisible for ten minutes of Azurite's time).
/// </summary>
public sealed class Azurite : IAsyncLifetime
{
    private bool _skipApiVersionCheck = true;
    private bool _movableClock;
    private bool _shared = true; // the collection fixture: an emulator the user runs (AZURITE_CONNECTION_STRING) will do

    // The emulator's published development account; it guards nothing.
    private const string DevAccount = "devstoreaccount1";
    private const string DevKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private Process? _process;
    private string? _clockFile;
    private string? _dataFolder;
    private string? _skipReason;
    private string? _connectionString;

    /// <summary>An emulator of a test's own (started by InitializeAsync, stopped by DisposeAsync), as a user may run it.</summary>
    public static Azurite Own(bool skipApiVersionCheck = true, bool movableClock = false) =>
        new() { _skipApiVersionCheck = skipApiVersionCheck, _movableClock = movableClock, _shared = false };

    /// <summary>The connection string of the running emulator; skips (or, in CI, fails) the test when there is none.</summary>
    public string ConnectionString
    {
        get
        {
            if (_connectionString is not null) return _connectionString;
            if (Environment.GetEnvironmentVariable("DBT_RELAY_REQUIRE_AZURITE") == "1")
            {
                Assert.Fail($"Azurite is required here (DBT_RELAY_REQUIRE_AZURITE=1) but did not start: {_skipReason}");
            }
            Skip.If(true, $"Azurite is not available: {_skipReason}");
            return "";
        }
    }

    public async Task InitializeAsync()
    {
        _connectionString = _shared ? Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") : null;
        if (_connectionString is not null) return;
        var node = LocalMachine.OnPath("node");
        if (node is null)
        {
            _skipReason = "Node.js is not on PATH (install Node 20+ to run the Azure Storage tests).";
            return;
        }
        var folder = Path.Combine(Repository.Root(), ".ci", "azurite");
        var script = Path.Combine(folder, "node_modules", "azurite", "dist", "src", "azurite.js");
        if (!File.Exists(script) && !await InstallAsync(folder))
        {
            _skipReason = $"Azurite is not installed and `npm ci --prefix {folder}` failed.";
            return;
        }
        var (blob, queue, table) = (LocalMachine.FreePort(), LocalMachine.FreePort(), LocalMachine.FreePort());
        _dataFolder = Directory.CreateTempSubdirectory("azurite-").FullName;
        var start = new ProcessStartInfo(node)
        {
            ArgumentList =
            {
                script, "--silent", "--location", _dataFolder, "--disableProductStyleUrl",
                "--blobHost", "127.0.0.1", "--blobPort", blob.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--queueHost", "127.0.0.1", "--queuePort", queue.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--tableHost", "127.0.0.1", "--tablePort", table.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(), // where Azurite would write its debug log, were it enabled
        };
        if (_skipApiVersionCheck) start.ArgumentList.Add("--skipApiVersionCheck");
        if (_movableClock)
        {
            _clockFile = Path.Combine(Path.GetTempPath(), $"azurite-clock-{Guid.NewGuid():N}");
            await File.WriteAllTextAsync(_clockFile, "0");
            start.ArgumentList.Insert(0, Path.Combine(AppContext.BaseDirectory, "azurite-clock.cjs"));
            start.ArgumentList.Insert(0, "--require");
            start.Environment["AZURITE_CLOCK_FILE"] = _clockFile;
        }
        _process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        if (!await ListeningAsync(blob) || !await ListeningAsync(queue))
        {
            _skipReason = $"Azurite did not listen within 30 s: {string.Join(" | ", output)}";
            return;
        }
        _connectionString = $"DefaultEndpointsProtocol=http;AccountName={DevAccount};AccountKey={DevKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob}/{DevAccount};QueueEndpoint=http://127.0.0.1:{queue}/{DevAccount};" +
            $"TableEndpoint=http://127.0.0.1:{table}/{DevAccount};";
    }

    /// <summary>Moves Azurite's clock forward (only with a movable clock): visibility timeouts and delays run out.</summary>
    public async Task AdvanceClockAsync(TimeSpan by)
    {
        var file = _clockFile ?? throw new InvalidOperationException("this Azurite was started without a movable clock");
        var now = long.Parse(await File.ReadAllTextAsync(file), System.Globalization.CultureInfo.InvariantCulture);
        // Written aside and renamed over, so the clock never reads a half-written offset.
        await File.WriteAllTextAsync(file + ".next", (now + (long)by.TotalMilliseconds).ToString(System.Globalization.CultureInfo.InvariantCulture));
        File.Move(file + ".next", file, overwrite: true);
        await Task.Delay(300); // the clock re-reads its file every 100 ms
    }

    public async Task DisposeAsync()
    {
        if (_clockFile is not null) File.Delete(_clockFile);
        if (_process is not null)
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
        }
        if (_dataFolder is not null) Directory.Delete(_dataFolder, recursive: true);
    }

    private static async Task<bool> InstallAsync(string folder)
    {
        if (LocalMachine.OnPath("npm") is not { } npm) return false;
        using var install = Process.Start(new ProcessStartInfo(npm, ["ci", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", folder])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await Task.WhenAll(install.StandardOutput.ReadToEndAsync(), install.StandardError.ReadToEndAsync(), install.WaitForExitAsync(timeout.Token));
        return install.ExitCode == 0;
    }


    private static async Task<bool> ListeningAsync(int port)
    {
        for (var i = 0; i < 300; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return true;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }
}
