using ChatBlazor.Inference.Training.Data;

namespace ChatBlazor.Inference.Tests.Training.Data;

public sealed class ProductHelpTests
{
    private static readonly IReadOnlyList<GuideSection> _sections = ProductHelp.ParseGuide(ProductHelp.ReadEmbeddedGuide());

    [Theory]
    [InlineData("Start a new chat", "New chat")]
    [InlineData("Open an earlier conversation", "sidebar")]
    [InlineData("Stop a reply", "Esc")]
    [InlineData("Regenerate a reply", "sibling")]
    [InlineData("Switch between reply versions", "< 2/3 >")]
    [InlineData("Edit a message", "branch")]
    [InlineData("Change the model", "model picker")]
    [InlineData("Set a system prompt", "System prompt")]
    [InlineData("Change the temperature", "Temperature")]
    [InlineData("Change top-p", "Top-p")]
    [InlineData("Limit the reply length", "Max tokens")]
    [InlineData("Create an API key", "shown only once")]
    [InlineData("See usage and quota", "Billing")]
    [InlineData("Export a conversation", "JSON")]
    [InlineData("Turn on dark mode", "dark mode")]
    [InlineData("Use the admin console", "Admin console")]
    public void TheGuideYieldsVariedQuestionsWithAShortFaithfulAnswerForEachTopic(string heading, string keyTerm)
    {
        var section = Assert.Single(_sections, s => s.Heading == heading);
        Assert.Contains(keyTerm, section.Answer);
        Assert.InRange(section.Answer.Count(c => c is '.' or '!' or '?'), 1, 3);
        Assert.DoesNotContain("**", section.Answer);

        foreach (var eval in new[] { false, true })
        {
            var examples = TestData.Generate(new DataMix(0, 0, _sections.Count * 6, 0, 0), seed: 8, eval)
                .Where(e => e.Assistant == section.Answer).ToList();
            Assert.Equal(6, examples.Count);
            Assert.True(examples.Select(e => e.User).Distinct().Count() >= 3, string.Join(" | ", examples.Select(e => e.User)));
        }
    }

    [Fact]
    public void EverySectionAnswerNamesAQuotedUiElementForTheJudge() =>
        Assert.All(_sections, s => Assert.Matches("\"[^\"]+\"", s.Answer));

    [Fact]
    public void AGuideGivenByPathIsUsedInsteadOfTheEmbeddedOne()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("guide-").FullName, "guide.md");
        File.WriteAllText(path, "# Guide\n\nIntro.\n\n## Rename a chat\n\nClick **Rename** in the sidebar.\nType the new name.\n\nMore details here.\n");
        try
        {
            var examples = TrainingData.Generate(new DataMix(0, 0, 5, 0, 0), seed: 1, eval: false, wordNetDir: null, userGuidePath: path);

            Assert.All(examples, e => Assert.Equal("Click \"Rename\" in the sidebar. Type the new name.", e.Assistant));
            // A filler word may sit anywhere in a training question ("rename a really chat").
            Assert.All(examples, e => Assert.Matches("(?i)rename (\\w+ )?a (\\w+ )?chat", e.User));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}
