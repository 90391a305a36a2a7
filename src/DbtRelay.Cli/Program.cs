using System.CommandLine;
using DbtRelay.Cli;

var parsed = RelayCli.Build(Console.Out, Console.Error).Parse(args);
if (parsed.Errors.Count > 0)
{
    // A mistake on the command line: say what, and exit 2 like every other usage error of dbt-relay.
    foreach (var parseError in parsed.Errors) Console.Error.WriteLine(parseError.Message);
    Console.Error.WriteLine("Run `dbt-relay --help` (or `dbt-relay <command> --help`) for usage.");
    return 2;
}

// serve handles Ctrl+C itself (the host drains the queue before exiting), so the parser must not end the process.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
