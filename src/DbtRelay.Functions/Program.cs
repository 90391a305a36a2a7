using DbtRelay.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.UseMiddleware<InvocationLogScope>();

// relay.json ships with the app; an invalid one stops the host at startup with every problem and its path.
builder.Services.AddDbtRelayFunctions(builder.Configuration, Path.Combine(AppContext.BaseDirectory, "relay.json"));
builder.Services.AddDbtRelayTelemetry(builder.Configuration);

builder.Build().Run();
