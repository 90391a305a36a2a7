namespace DbtRelay.Testing;

/// <summary>
/// Waits, bounded, for background work (the serve pipeline, a cache refresh) to reach a state. Not a timing
/// assertion: the bound only keeps a broken build from hanging.
/// </summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultBound = TimeSpan.FromSeconds(10);

    public static Task True(Func<bool> condition) => True(() => Task.FromResult(condition()), DefaultBound);

    public static Task True(Func<bool> condition, TimeSpan bound) => True(() => Task.FromResult(condition()), bound);

    public static Task True(Func<Task<bool>> condition) => True(condition, DefaultBound);

    public static async Task True(Func<Task<bool>> condition, TimeSpan bound)
    {
        var deadline = DateTime.UtcNow + bound;
        while (DateTime.UtcNow < deadline && !await condition()) await Task.Delay(20);
        Assert.True(await condition(), $"the background work did not get there within {bound.TotalSeconds:F0} s");
    }
}
