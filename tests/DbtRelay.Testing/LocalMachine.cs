using System.Net;
using System.Net.Sockets;

namespace DbtRelay.Testing;

/// <summary>What the process fixtures ask of this machine: a free loopback port, a program on PATH.</summary>
public static class LocalMachine
{
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, program)).FirstOrDefault(File.Exists);
}
