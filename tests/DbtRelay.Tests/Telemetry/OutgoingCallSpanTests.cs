using System.Diagnostics;
using CsCheck;
using DbtRelay.Telemetry;

namespace DbtRelay.Tests.Telemetry;

/// <summary>What an outgoing call's span may say about the URL it called.</summary>
public sealed class OutgoingCallSpanTests
{
    private static readonly Gen<string> Segment = Gen.String[Gen.Char["abcXYZ019-._~%!$&'()*+,;=:@"], 1, 12];

    [Fact]
    public void A_calls_span_names_the_origin_and_nothing_of_the_path_query_fragment_or_credentials()
    {
        Gen.Select(Gen.OneOf("http", "https"), Gen.OneOf("127.0.0.1", "hooks.slack.com", "example.test"), Gen.Int[1, 65535],
                Segment.Array[1, 4], Segment, Segment, Gen.String[Gen.Char.AlphaNumeric, 1, 12])
            .Sample((scheme, host, port, path, query, secret, password) =>
            {
                var url = new Uri($"{scheme}://relay:{password}@{host}:{port}/{string.Join('/', path)}/{secret}?token={secret}&q={query}#{secret}");
                using var activity = new Activity("call").Start();
                activity.SetTag("url.full", url.ToString()); // what the instrumentation wrote first

                RelayTelemetry.KeepOriginOnly(activity, new HttpRequestMessage(HttpMethod.Post, url));

                var kept = (string)activity.GetTagItem("url.full")!;
                Assert.Equal(url.IsDefaultPort ? $"{scheme}://{host}" : $"{scheme}://{host}:{port}", kept);
                Assert.DoesNotContain("relay:", kept, StringComparison.Ordinal);
                Assert.DoesNotContain(url.AbsolutePath.TrimStart('/'), kept, StringComparison.Ordinal);
            });
    }
}
