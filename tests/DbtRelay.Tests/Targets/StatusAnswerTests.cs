using CsCheck;
using DbtRelay.Delivery;
using DbtRelay.Targets;

namespace DbtRelay.Tests.Targets;

/// <summary>What a status API's answer can put into the relay's history, logs, URLs and notices.</summary>
public sealed class StatusAnswerTests
{
    [Fact]
    public void What_a_status_api_says_is_stored_as_capped_single_lines_with_every_secret_masked_whatever_it_holds()
    {
        const string token = "rs-token-0123456789abcdef";
        Gen.Select(Gen.String[Gen.Char, 0, 1200], Gen.Int[0, 1200], Gen.String[Gen.Char, 0, 300]).Sample((text, at, status) =>
        {
            // The token anywhere, also straddling where the text is cut.
            var error = text.Insert(Math.Min(at, text.Length), token);
            var report = new RunReport($"said {status}", new DownstreamRun("sync_1", DownstreamStates.Failed) { Error = error, VendorStatus = status + token });

            var kept = StatusAnswer.Sanitized(report, [token]);

            foreach (var value in new[] { kept.Detail, kept.Run.Error, kept.Run.VendorStatus })
            {
                if (value is null) continue;
                Assert.DoesNotContain(value, char.IsControl);
                Assert.DoesNotContain(token[..8], value, StringComparison.Ordinal);
            }
            Assert.True(kept.Run.Error!.Length <= StatusAnswer.MaxErrorLength + 1, $"{kept.Run.Error.Length} characters kept");
            Assert.True((kept.Run.VendorStatus?.Length ?? 0) <= StatusAnswer.MaxStatusLength + 1);
        });
    }

    [Fact]
    public void A_downstream_id_is_followed_only_when_it_is_one_short_path_segment_without_control_characters()
    {
        Gen.String[Gen.Char, 0, 300].Sample(id =>
        {
            if (!RunFollower.CanFollow(id)) return;
            Assert.InRange(id.Length, 1, RunFollower.MaxRunIdLength);
            Assert.DoesNotContain(id, char.IsControl);
            // As the RudderStack check builds its URL: the id stays one segment under syncs/ of the same connection.
            var connection = new Uri("https://api.rudderstack.com/v2/retl-connections/conn1/");
            var status = new Uri(connection, $"syncs/{Uri.EscapeDataString(id)}");
            Assert.Equal((connection.Host, "/v2/retl-connections/conn1/syncs/"), (status.Host, status.AbsolutePath[..(status.AbsolutePath.LastIndexOf('/') + 1)]));
        });
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("")]
    [InlineData("a\nb")]
    public void Dot_segments_empty_ids_and_control_characters_are_not_followed(string id) => Assert.False(RunFollower.CanFollow(id));
}
