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

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- load [rounds] [seconds]   (needs wrk)
if (args is ["load", ..])
{
    return await LoadRun.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 10);
}

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- --filter '*Intake*'
BenchmarkSwitcher.FromAssembly(typeof(IntakeBenchmarks).Assembly).Run(args);
return 0;
