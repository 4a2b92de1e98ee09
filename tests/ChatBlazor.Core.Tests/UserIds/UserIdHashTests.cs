using ChatBlazor.Core.Identity;

namespace ChatBlazor.Core.Tests.UserIds;

public class UserIdHashTests
{
    private const string Key = "test-user-id-key-0123456789";
    private const string UserId = "3f2c9a1e-7b4d-4e2a-9c1f-0a6b8d2e4f11";

    [Fact]
    public void TheHashIsTheFirst32HexCharactersOfHmacSha256UnderTheKey()
    {
        // From: echo -n "$UserId" | openssl dgst -sha256 -hmac "$Key"
        Assert.Equal("9955e4d8cdf2f1d9544af006ff916548", new UserIdHash(Key).Of(UserId));
    }

    [Fact]
    public void AnotherKeyGivesAnotherHash()
    {
        Assert.NotEqual(new UserIdHash(Key).Of(UserId), new UserIdHash(Key + "x").Of(UserId));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("fifteen-chars!!")]
    public void AKeyShorterThan16CharactersIsRefusedNamingTheSetting(string key)
    {
        var error = Assert.Throws<ArgumentException>(() => new UserIdHash(key));

        Assert.Contains("Logging:UserIdKey", error.Message);
    }
}
