using BenchmarkDotNet.Running;
using DbtRelay.Benchmarks;

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- latency [events] [concurrency] [full|normal|memory]
if (args is ["latency", ..])
{
    return await LatencyRun.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 16,
        args.Length > 3 ? args[3] : "full");
}

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- load [rounds] [seconds] [--compare DIR]...   (needs wrk)
if (args is ["load", ..])
{
    var numbers = args.Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
    var compare = args.Select((a, i) => (a, i)).Where(x => x.a == "--compare" && x.i + 1 < args.Length).Select(x => args[x.i + 1]).ToList();
    return await LoadRun.RunAsync(
        numbers.Length > 0 ? int.Parse(numbers[0], System.Globalization.CultureInfo.InvariantCulture) : 3,
        numbers.Length > 1 ? int.Parse(numbers[1], System.Globalization.CultureInfo.InvariantCulture) : 10,
        compare);
}

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- azure-path [events] [rounds] [gapSeconds] [wrkSeconds] [--set KEY=VALUE]... [--host-only | --intake-only]
// (needs a Functions host: func on PATH or DBT_RELAY_FUNCTIONS_HOST; Node for Azurite; wrk)
if (args is ["azure-path", ..])
{
    var numbers = args.Skip(1).TakeWhile(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
    int Arg(int i, int fallback) => numbers.Length > i ? int.Parse(numbers[i], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    var settings = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length)
        .Select(x => args[x.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
    if (args.Contains("--intake-only")) return await AzurePathRun.IntakeOnlyRunAsync(Arg(1, 3), Arg(3, 10));
    return await AzurePathRun.RunAsync(Arg(0, 40), Arg(1, 3), TimeSpan.FromSeconds(Arg(2, 2)), Arg(3, 10), settings, args.Contains("--host-only"));
}

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- --filter '*Intake*'
BenchmarkSwitcher.FromAssembly(typeof(IntakeBenchmarks).Assembly).Run(args);
return 0;
