using System.Diagnostics;
using System.Globalization;

namespace DbtRelay.Testing;

/// <summary>
/// A process and everything it started, signalled together (Linux: read from /proc). Needed where the process a test
/// starts is a launcher: npm's <c>func</c> is a Node wrapper that does not pass SIGTERM on to the host it runs, and
/// once the wrapper is gone the host and its worker are no longer its tree.
/// </summary>
public static class ProcessTree
{
    /// <summary>The root and its descendants still running, the root first.</summary>
    public static IReadOnlyList<int> Of(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
                list.Add(pid);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
            {
                // gone since the listing, or not ours to read
            }
        }
        var tree = new List<int> { root };
        for (var i = 0; i < tree.Count; i++)
        {
            if (children.TryGetValue(tree[i], out var list)) tree.AddRange(list);
        }
        return tree;
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, KILL) to every process of <paramref name="pids"/> still running.</summary>
    public static async Task SignalAsync(IReadOnlyList<int> pids, string signal)
    {
        var alive = pids.Where(IsRunning).ToList();
        if (alive.Count == 0) return;
        using var kill = Process.Start(new ProcessStartInfo("kill", [$"-{signal}", .. alive.Select(p => p.ToString(CultureInfo.InvariantCulture))])
        {
            RedirectStandardError = true, // one may exit between the check and the signal
        })!;
        await kill.WaitForExitAsync();
    }

    public static bool IsRunning(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    /// <summary>Waits until none of <paramref name="pids"/> runs; false when some still do after <paramref name="bound"/>.</summary>
    public static async Task<bool> WaitForExitAsync(IReadOnlyList<int> pids, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (pids.Any(SafeIsRunning))
        {
            if (DateTime.UtcNow > deadline) return false;
            await Task.Delay(100);
        }
        return true;
    }

    private static bool SafeIsRunning(int pid)
    {
        try
        {
            return IsRunning(pid);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
