using System.Text;
using DbtRelay.Webhooks;

namespace DbtRelay.Tests.Webhooks;

public sealed class WebhookSignatureTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("key");
    private static readonly WebhookSecret Secret = new("test", "key");
    private static readonly byte[] Message = Encoding.UTF8.GetBytes("The quick brown fox jumps over the lazy dog");
    private const string KnownVector = "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8";

    [Fact]
    public void Computes_the_known_HMAC_SHA256_vector_in_lowercase_hex() =>
        Assert.Equal(KnownVector, WebhookSignature.Compute(Key, Message));

    [Theory]
    [InlineData(KnownVector)]
    [InlineData("F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8")]
    [InlineData(" f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8 ")]
    public void Accepts_the_signature_in_either_hex_case(string header)
    {
        var presented = new byte[32];
        Assert.True(WebhookSignature.TryDecode(header, presented));
        Assert.True(Secret.Verifies(Message, presented));
    }

    [Theory]
    [InlineData("")]
    [InlineData("f7bc83f4")]
    [InlineData("sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")]
    [InlineData("g7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8")]
    public void Refuses_anything_that_is_not_64_hex_characters(string header) =>
        Assert.False(WebhookSignature.TryDecode(header, new byte[32]));

    [Fact]
    public void A_one_bit_change_in_the_body_breaks_the_match()
    {
        var presented = Convert.FromHexString(KnownVector);
        var tampered = (byte[])Message.Clone();
        tampered[^1] ^= 1;
        Assert.False(Secret.Verifies(tampered, presented));
    }

    [Fact]
    public void A_secret_checked_from_many_threads_answers_each_body_on_its_own()
    {
        // The secret reuses keyed HMACs between calls: no call may see another's bytes or a half-finished state.
        var secret = new WebhookSecret("test", "key");
        var presented = Convert.FromHexString(KnownVector);
        var tampered = (byte[])Message.Clone();
        tampered[0] ^= 1;
        var wrong = 0;
        Parallel.For(0, 2000, i =>
        {
            var body = i % 3 == 0 ? tampered : Message;
            if (secret.Verifies(body, presented) != (body == Message)) Interlocked.Increment(ref wrong);
            if (secret.Verifies(Message.AsSpan(0, 10), presented)) Interlocked.Increment(ref wrong);
        });
        Assert.Equal(0, wrong);
    }

    [Fact]
    public void Fingerprint_is_eight_hex_of_the_secret_sha256_and_differs_per_secret()
    {
        var fp = WebhookSignature.Fingerprint(Key);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Key))[..8], fp);
        Assert.NotEqual(fp, WebhookSignature.Fingerprint("key2"u8));
    }
}
