using BenchmarkDotNet.Running;
using DbtRelay.Benchmarks;

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- latency [events] [concurrency]
if (args is ["latency", ..])
{
    return await LatencyRun.RunAsync(
        args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 5000,
        args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 16);
}

// dotnet run -c Release --project tests/DbtRelay.Benchmarks -- --filter '*Intake*'
BenchmarkSwitcher.FromAssembly(typeof(IntakeBenchmarks).Assembly).Run(args);
return 0;
