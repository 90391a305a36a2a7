using System.Text.Json;
using CsCheck;
using DbtRelay.Delivery;
using DbtRelay.Targets;

namespace DbtRelay.Tests.Targets;

/// <summary>What a status API's answer can put into the relay's history, logs, URLs and notices.</summary>
public sealed class StatusAnswerTests
{
    [Fact]
    public void A_vendors_error_text_is_kept_as_one_line_of_at_most_500_characters_whatever_it_holds()
    {
        Gen.String[Gen.Char, 0, 2000].Sample(text =>
        {
            var kept = StatusAnswer.ErrorText(JsonSerializer.SerializeToElement(text));
            if (kept is null)
            {
                Assert.True(string.IsNullOrWhiteSpace(text));
                return;
            }
            Assert.DoesNotContain(kept, char.IsControl);
            Assert.True(kept.Length <= StatusAnswer.MaxErrorLength + 1, $"{kept.Length} characters kept");
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
