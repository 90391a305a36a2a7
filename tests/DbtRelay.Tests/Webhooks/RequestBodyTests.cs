using DbtRelay.Webhooks;

namespace DbtRelay.Tests.Webhooks;

public sealed class RequestBodyTests
{
    private const int Limit = 64 * 1024;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1024)]
    [InlineData(Limit)]
    public async Task Reads_bodies_up_to_and_including_the_limit(int size)
    {
        var data = Enumerable.Range(0, size).Select(i => (byte)i).ToArray();
        foreach (var declared in new long?[] { size, null })
        {
            var body = await RequestBody.ReadAsync(new CountingStream(data), declared, Limit, default);
            Assert.Equal(data, body?.ToArray());
        }
    }

    [Fact]
    public async Task Refuses_a_declared_length_over_the_limit_without_reading_a_byte()
    {
        var stream = new CountingStream(new byte[Limit + 1]);

        var body = await RequestBody.ReadAsync(stream, Limit + 1, Limit, default);

        Assert.Null(body);
        Assert.Equal(0, stream.BytesRead);
    }

    [Fact]
    public async Task Stops_reading_a_chunked_body_one_byte_past_the_limit()
    {
        var stream = new CountingStream(new byte[10 * Limit]);

        var body = await RequestBody.ReadAsync(stream, contentLength: null, Limit, default);

        Assert.Null(body);
        Assert.Equal(Limit + 1, stream.BytesRead);
    }

    /// <summary>A stream that hands out data in small reads, as a network does, and counts what was taken.</summary>
    private sealed class CountingStream(byte[] data) : MemoryStream(data)
    {
        public long BytesRead { get; private set; }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = base.Read(buffer.Span[..Math.Min(buffer.Length, 3000)]);
            BytesRead += n;
            return ValueTask.FromResult(n);
        }
    }
}
