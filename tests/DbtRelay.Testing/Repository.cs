namespace DbtRelay.Testing;

/// <summary>The repository the tests run from (files the tests read: relay.json examples, host.json, the schema).</summary>
public static class Repository
{
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Functions.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Functions.sln not found above the test output.");
    }
}
