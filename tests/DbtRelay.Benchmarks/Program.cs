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

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- --filter '*Intake*'
BenchmarkSwitcher.FromAssembly(typeof(IntakeBenchmarks).Assembly).Run(args);
return 0;
