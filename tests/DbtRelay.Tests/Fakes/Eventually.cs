namespace DbtRelay.Tests.Fakes;

/// <summary>
/// Waits, bounded, for background work (the serve pipeline, a cache refresh) to reach a state. Not a timing
/// assertion: the bound only keeps a broken build from hanging.
/// </summary>
internal static class Eventually
{
    public static Task True(Func<bool> condition) => True(() => Task.FromResult(condition()));

    public static async Task True(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 500 && !await condition(); i++) await Task.Delay(20);
        Assert.True(await condition(), "the background work did not get there within 10 s");
    }
}
