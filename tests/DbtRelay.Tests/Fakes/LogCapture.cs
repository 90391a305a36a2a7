using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace DbtRelay.Tests.Fakes;

/// <summary>Captures every formatted log line (with exception text) so tests can assert what was and was not logged.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Category, string Text)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Sink(this, categoryName);

    public ILogger<T> For<T>() => new Logger<T>(new LoggerFactory([this]));

    public string AllText => string.Join('\n', Entries.Select(e => $"{e.Level} {e.Category} {e.Text}"));

    public void Dispose() { }

    private sealed class Sink(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull
        {
            owner.Entries.Enqueue((LogLevel.Trace, category, $"scope {state}"));
            return null;
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, category, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
