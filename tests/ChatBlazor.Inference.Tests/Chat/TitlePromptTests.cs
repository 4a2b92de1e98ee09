using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

public sealed class TitlePromptTests
{
    [Theory]
    [InlineData("Meaning of ephemeral", "Meaning of ephemeral")]
    [InlineData("  \"Adding 458 and 367.\"  ", "Adding 458 and 367")]
    [InlineData("Title: Stop a reply\nThis conversation is about stopping.", "Stop a reply")]
    [InlineData("**Greeting**", "Greeting")]
    [InlineData("   \n  ", null)]
    [InlineData("\"\"", null)]
    public void CleanKeepsTheFirstLineWithoutDecoration(string reply, string? expected) =>
        Assert.Equal(expected, TitlePrompt.Clean(reply));

    [Fact]
    public void ALongTitleIsCutAtAWordBoundary()
    {
        var title = TitlePrompt.Clean(string.Join(' ', Enumerable.Repeat("conversation", 12)))!;

        Assert.True(title.Length <= TitlePrompt.MaxLength + 1, title);
        Assert.EndsWith("conversation…", title);
    }

    [Fact]
    public void OnlyTheStartOfALongFirstMessageGoesIntoThePrompt()
    {
        var prompt = TitlePrompt.For(new string('a', 5000));

        Assert.InRange(prompt.Length, 400, 700);
        Assert.StartsWith("Write a short title", prompt);
    }
}
