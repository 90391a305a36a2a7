using DbtRelay;
using DbtRelay.Delivery;
using DbtRelay.Functions;
using DbtRelay.Routing;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);

// relay.json ships with the app; an invalid one stops the host at startup with every problem and its path.
var relayConfig = RelayConfigLoader.LoadFile(Path.Combine(AppContext.BaseDirectory, "relay.json"));

builder.Services.AddDbtRelay(builder.Configuration, relayConfig);
builder.Services.AddSingleton(StorageClients.FromConfiguration(builder.Configuration));
builder.Services.AddSingleton<IRelayQueues, StorageRelayQueues>();
builder.Services.AddSingleton<IConditionalStore, BlobConditionalStore>();
builder.Services.AddHostedService<StorageBootstrap>();

builder.Build().Run();
