using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Training.Data;

namespace ChatBlazor.Inference.Tests.Training.Data;

public sealed class TrainingDataTests
{
    private static readonly DataMix _mix = new(Arithmetic: 400, Definitions: 120, ProductHelp: 300, SmallTalk: 200, Refusals: 200, Titles: 100);

    [Fact]
    public void GeneratesTheRequestedCountOfEachCategory()
    {
        var examples = TestData.Generate(_mix, seed: 3, eval: false);

        Assert.Equal(400, examples.Count(e => e.Category == DataCategory.Arithmetic));
        Assert.Equal(120, examples.Count(e => e.Category == DataCategory.Definitions));
        Assert.Equal(300, examples.Count(e => e.Category == DataCategory.ProductHelp));
        Assert.Equal(200, examples.Count(e => e.Category == DataCategory.SmallTalk));
        Assert.Equal(200, examples.Count(e => e.Category == DataCategory.Refusals));
        Assert.Equal(100, examples.Count(e => e.Category == DataCategory.Titles));
        Assert.All(examples, e => Assert.False(string.IsNullOrWhiteSpace(e.User) || string.IsNullOrWhiteSpace(e.Assistant)));
    }

    [Fact]
    public void SameSeedGivesTheSameDataAndAnotherSeedDifferentData()
    {
        var first = TestData.Generate(_mix, seed: 11, eval: false);
        var again = TestData.Generate(_mix, seed: 11, eval: false);
        var other = TestData.Generate(_mix, seed: 12, eval: false);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.NotEqual(first.Select(e => e.User).Order(), other.Select(e => e.User).Order());
    }

    [Fact]
    public void EvalPhrasingsNeverAppearInTraining()
    {
        var train = TestData.Generate(_mix with { Arithmetic = 5000, ProductHelp = 3000, SmallTalk = 2000, Refusals = 2000 }, seed: 5, eval: false);
        var eval = TestData.Generate(_mix, seed: 5, eval: true);

        foreach (var category in new[] { DataCategory.Arithmetic, DataCategory.Definitions, DataCategory.ProductHelp, DataCategory.SmallTalk, DataCategory.Refusals })
        {
            var trainShapes = train.Where(e => e.Category == category).Select(TestData.Skeleton).ToHashSet();
            var evalShapes = eval.Where(e => e.Category == category).Select(TestData.Skeleton).ToHashSet();
            Assert.True(evalShapes.Count >= 3, category);
            Assert.Empty(evalShapes.Intersect(trainShapes));
        }
    }

    [Fact]
    public void TrainingQuestionsVaryInCaseAndPunctuation()
    {
        var users = TestData.Generate(_mix with { Arithmetic = 2000 }, seed: 2, eval: false).Select(e => e.User).ToList();

        Assert.Contains(users, u => u.EndsWith('?'));
        Assert.Contains(users, u => !u.EndsWith('?'));
        Assert.Contains(users, u => u.Contains("whats", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(users, u => u.Contains("pls", StringComparison.Ordinal));
        Assert.Contains(users, u => char.IsUpper(u[0]));
        Assert.Contains(users, u => char.IsLower(u[0]));
    }

    [Fact]
    public void DefinitionsWithoutWordNetFailWithAMessageNamingThePackage()
    {
        var error = Assert.Throws<DirectoryNotFoundException>(() =>
            TrainingData.Generate(new DataMix(0, 1, 0, 0, 0), seed: 1, eval: false, wordNetDir: Path.Combine(AppContext.BaseDirectory, "no-such-dir")));

        Assert.Contains("wordnet-base", error.Message);
    }

    [Fact]
    public void AllGeneratedReferenceAnswersPassTheJudge()
    {
        foreach (var eval in new[] { false, true })
            Assert.All(TestData.Generate(_mix, seed: 9, eval), e => Assert.True(EvalJudge.IsCorrect(e, e.Assistant), $"{e.Category}: {e.Assistant}"));
    }

    [Fact]
    public void TitleExamplesAskTheChatPagesTitleQuestionAndNameTheSubject()
    {
        var examples = TestData.Generate(_mix, seed: 4, eval: true);
        var titles = examples.Where(e => e.Category == DataCategory.Titles).ToList();
        var questions = examples.Where(e => e.Category != DataCategory.Titles).ToList();

        Assert.All(titles, t =>
        {
            // The prompt is the chat page's own, wrapped around one of the eval questions, and the title is short.
            var source = questions.FirstOrDefault(q => t.User == TitlePrompt.For(q.User) && q.Title == t.Assistant);
            Assert.NotNull(source);
            Assert.InRange(t.Assistant.Split(' ').Length, 1, 6);
            if (source.Category == DataCategory.Definitions)
                Assert.Equal("meaning of " + source.Assistant.Split(' ')[0].ToLowerInvariant(), t.Assistant.ToLowerInvariant());
        });
        Assert.Contains(titles, t => t.Assistant.StartsWith("Adding ", StringComparison.Ordinal) || t.Assistant.StartsWith("Multiplying ", StringComparison.Ordinal) || t.Assistant.StartsWith("Subtracting ", StringComparison.Ordinal));
    }
}
