using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Security.KeyVault.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Testing;

/// <summary>
/// Azure Key Vault's secrets API over HTTPS on 127.0.0.1: <c>GET /secrets/{name}[/{version}]?api-version=…</c>,
/// the bearer challenge (401 + WWW-Authenticate) for a request without a token, 404 SecretNotFound, and scripted
/// outages (429 with Retry-After, 503). Counts what it served so tests can prove caching.
/// </summary>
public sealed class FakeKeyVault : IAsyncDisposable
{
    public const string Token = "fake-kv-access-token";
    public static readonly Uri VaultUri = new("https://relay.vault.azure.net/");

    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;
    private readonly ConcurrentDictionary<string, List<(string Version, string Value)>> _secrets = new();

    public FakeKeyVault()
    {
        _certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.UseHttps(_certificate)));
        _app = builder.Build();
        _app.Run(HandleAsync);
        _app.StartAsync().GetAwaiter().GetResult();
        Port = ListeningAddress.Of(_app).Port;
    }

    public int Port { get; }

    /// <summary>Authenticated reads per secret name.</summary>
    public ConcurrentDictionary<string, int> Reads { get; } = new();

    private int _challenges;

    public int Challenges => Volatile.Read(ref _challenges);

    /// <summary>When set, every authenticated request gets this status (an outage or throttling).</summary>
    public (int Status, int? RetryAfterSeconds)? Outage { get; set; }

    /// <summary>While set, secret reads get no answer (a vault that hangs rather than fails).</summary>
    public bool Unresponsive { get; set; }

    /// <summary>How long each secret read waits before it is answered (a slow vault).</summary>
    public TimeSpan ReadDelay { get; set; }

    public int ReadsOf(string name) => Reads.GetValueOrDefault(name);

    public void Set(string name, string value) =>
        _secrets.AddOrUpdate(name, _ => [(Guid.NewGuid().ToString("N"), value)], (_, versions) => [.. versions, (Guid.NewGuid().ToString("N"), value)]);

    /// <summary>Client options for the real SecretClient: dial this fake, trust only its certificate, no SDK retries.</summary>
    public SecretClientOptions ClientOptions()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetCertHashString() == _certificate.GetCertHashString();
        var options = new SecretClientOptions { Transport = new HttpClientTransport(new HttpClient(handler)) };
        options.Retry.MaxRetries = 0; // the tests count requests; the cache, not the SDK, rides out outages
        return options;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        if (string.IsNullOrEmpty(request.Query["api-version"]))
        {
            context.Response.StatusCode = 400;
            return;
        }
        if (request.Headers.Authorization.ToString() != $"Bearer {Token}")
        {
            Interlocked.Increment(ref _challenges);
            context.Response.StatusCode = 401;
            context.Response.Headers.WWWAuthenticate =
                "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001\", resource=\"https://vault.azure.net\"";
            return;
        }
        var parts = request.Path.Value!.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts is not (["secrets", _] or ["secrets", _, _]))
        {
            context.Response.StatusCode = 404;
            return;
        }
        var name = parts[1];
        Reads.AddOrUpdate(name, 1, (_, n) => n + 1);
        if (ReadDelay > TimeSpan.Zero) await Task.Delay(ReadDelay, context.RequestAborted);
        if (Unresponsive)
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            return;
        }
        if (Outage is var (status, retryAfter))
        {
            context.Response.StatusCode = status;
            if (retryAfter is { } seconds) context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsJsonAsync(new { error = new { code = status == 429 ? "Throttled" : "ServiceUnavailable", message = "scripted" } });
            return;
        }
        var version = parts.Length == 3 ? parts[2] : null;
        if (!_secrets.TryGetValue(name, out var versions) || (version is not null && versions.All(v => v.Version != version)))
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { error = new { code = "SecretNotFound", message = $"A secret with (name/id) {name} was not found in this key vault." } });
            return;
        }
        var (id, value) = version is null ? versions[^1] : versions.First(v => v.Version == version);
        await context.Response.WriteAsJsonAsync(new
        {
            value,
            id = $"{VaultUri}secrets/{name}/{id}",
            attributes = new { enabled = true, created = 1_700_000_000, updated = 1_700_000_000, recoveryLevel = "Recoverable" },
        });
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest($"CN={VaultUri.Host}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(VaultUri.Host);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}

/// <summary>The managed identity as the Key Vault client sees it: hands out the fake's token and counts requests.</summary>
public sealed class CountingCredential : TokenCredential
{
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public List<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        lock (Scopes) Scopes.AddRange(requestContext.Scopes);
        return new AccessToken(FakeKeyVault.Token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
