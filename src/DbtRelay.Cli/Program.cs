using System.CommandLine;
using DbtRelay.Cli;

// serve handles Ctrl+C itself (the host drains the queue before exiting), so the parser must not end the process.
return await RelayCli.Build(Console.Out, Console.Error)
    .Parse(args)
    .InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
