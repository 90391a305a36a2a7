using DbtRelay.AzureStorage;
using Microsoft.Extensions.Options;

namespace DbtRelay.Functions;

/// <summary>
/// How the worker reports a configuration it cannot run with: one line per problem on stderr, then exit code 2, no
/// stack trace. The host logs a worker's stderr line at Error only when it contains "error" (the rest at
/// Information, below host.json's default level), and puts the last three in the exception it records when the
/// worker exits — which is what <c>func start</c>'s console and Application Insights show. The host restarts the
/// worker a few times and then stops: no function runs half-configured.
/// </summary>
internal static class StartupFailure
{
    public const int ExitCode = 2;

    /// <summary>The lines to report for <paramref name="exception"/>, or null when it is not a configuration problem (a bug keeps its stack trace).</summary>
    public static IReadOnlyList<string>? Describe(Exception exception) => exception switch
    {
        StartupProblemsException problems =>
            [.. problems.Problems, $"DbtRelay did not start: {problems.Problems.Count} configuration problem(s) above ({problems.RelayConfigPath} and app settings); no function runs until they are fixed."],
        OptionsValidationException invalid =>
            [.. Settings(invalid), "DbtRelay did not start: invalid app settings above; no function runs until they are fixed."],
        StorageUnavailableException storage => [storage.Message, "DbtRelay did not start: its storage account cannot be used."],
        // Several settings sections invalid at once: every failure, one summary.
        AggregateException many when many.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. many.InnerExceptions.Cast<OptionsValidationException>().SelectMany(Settings), "DbtRelay did not start: invalid app settings above; no function runs until they are fixed."],
        AggregateException { InnerExceptions.Count: 1 } one => Describe(one.InnerExceptions[0]),
        _ => null,
    };

    private static IEnumerable<string> Settings(OptionsValidationException invalid) =>
        invalid.Failures.Select(failure => string.IsNullOrEmpty(invalid.OptionsName) ? $"setting: {failure}" : $"setting {invalid.OptionsName}: {failure}");

    public static void Report(IReadOnlyList<string> lines, TextWriter error)
    {
        foreach (var line in lines) error.WriteLine($"error: {line}");
        error.Flush();
    }
}
