using DbtRelay.AzureStorage;
using DbtRelay.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

var builder = FunctionsApplication.CreateBuilder(args);
builder.UseMiddleware<InvocationLogScope>();
try
{
    // relay.json ships with the app (RelayConfigFile may name another file beside it, e.g. relay.local.json).
    builder.Services.AddDbtRelayFunctions(builder.Configuration, AppContext.BaseDirectory);
    builder.Services.AddDbtRelayTelemetry(builder.Configuration);
    using var app = builder.Build();
    // Settings and storage before the host starts: it would log a failure with its stack trace.
    app.Services.GetService<IStartupValidator>()?.Validate();
    await app.Services.GetServices<IHostedService>().OfType<StorageBootstrap>().Single().StartAsync(default);
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (StartupFailure.Describe(ex) is { } lines)
{
    StartupFailure.Report(lines, Console.Error);
    return StartupFailure.ExitCode;
}
