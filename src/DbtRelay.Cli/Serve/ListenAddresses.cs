

namespace DbtRelay.Cli.Serve;

/// <summary>The --urls addresses serve listens on, checked before the host starts.</summary>
internal static class ListenAddresses
{
    /// <summary>
    /// The demo's sink is serve itself, so its URL must be known before the host starts: a wildcard host becomes
    /// 127.0.0.1 and port 0 a free port chosen now.
    /// </summary>
    internal static (string Urls, string RelayUrl) DemoUrls(string urls)
    {
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[0];
        if (Bindable(first) is not { } uri) return (urls, first);
        var port = uri.Port == 0 ? FreeLoopbackPort() : uri.Port;
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "127.0.0.1" : uri.Host;
        var chosen = uri.Port == 0 ? urls.Replace(first, $"{uri.Scheme}://{uri.Host}:{port}", StringComparison.Ordinal) : urls;
        return (chosen, $"{uri.Scheme}://{host}:{port}");
    }

    /// <summary>
    /// The first address of <paramref name="urls"/> that something else already listens on, found before the host
    /// starts so that the answer is one line, not the host's startup failure with its stack trace.
    /// </summary>
    internal static string? AddressInUse(string urls)
    {
        foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Bindable(url) is not { } uri || uri.Port == 0) continue;
            if (!System.Net.IPAddress.TryParse(uri.Host == "localhost" ? "127.0.0.1" : uri.Host.Trim('[', ']'), out var address)) continue;
            try
            {
                var probe = new System.Net.Sockets.TcpListener(address, uri.Port);
                probe.Start();
                probe.Stop();
            }
            catch (System.Net.Sockets.SocketException ex) when (ex.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
            {
                return url;
            }
        }
        return null;
    }

    /// <summary>A --urls entry as a Uri, Kestrel's wildcard hosts (* and +) read as 0.0.0.0; null when it is not a URL.</summary>
    internal static Uri? Bindable(string url) =>
        Uri.TryCreate(url.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal),
            UriKind.Absolute, out var uri) ? uri : null;

    internal static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
