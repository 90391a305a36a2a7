namespace DbtRelay.Tests.Fakes;

/// <summary>
/// A TimeProvider whose clock moves only when a test says so; timers created from it fire on <see cref="Advance"/>.
/// Unlike FakeTimeProvider it also lists the delays being waited on (<see cref="PendingDelays"/>), which the retry
/// tests assert.
/// </summary>
internal sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private DateTimeOffset _now = start;

    /// <summary>Starts at this machine's time (whole seconds): events signed "a minute ago" are in intake's window.</summary>
    public ManualTimeProvider() : this(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds())) { }

    public override DateTimeOffset GetUtcNow() { lock (_gate) return _now; }

    public override long GetTimestamp() => GetUtcNow().UtcTicks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Due times of timers that have not fired yet, relative to now.</summary>
    public IReadOnlyList<TimeSpan> PendingDelays()
    {
        lock (_gate) return _timers.Where(t => t.Due is not null).Select(t => t.Due!.Value - _now).Order().ToList();
    }

    public void Advance(TimeSpan by)
    {
        List<ManualTimer> due;
        lock (_gate)
        {
            _now += by;
            due = _timers.Where(t => t.Due <= _now).OrderBy(t => t.Due).ToList();
            foreach (var t in due) t.Due = t.Period is { } p && p > TimeSpan.Zero ? _now + p : null;
        }
        foreach (var t in due) t.Fire();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ManualTimer(ManualTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        public DateTimeOffset? Due { get; set; }
        public TimeSpan? Period { get; private set; }

        public void Fire() => callback(state);

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (owner._gate)
            {
                Period = period;
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : owner._now + dueTime;
                if (!owner._timers.Contains(this)) owner._timers.Add(this);
            }
            if (dueTime == TimeSpan.Zero) { lock (owner._gate) Due = null; Fire(); }
            return true;
        }

        public void Dispose() { lock (owner._gate) owner._timers.Remove(this); }
        public ValueTask DisposeAsync() { Dispose(); return ValueTask.CompletedTask; }
    }
}
