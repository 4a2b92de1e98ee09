using ChatBlazor.Inference.Training.Data;

namespace ChatBlazor.Inference.Tests.Training.Data;

public sealed class WordNetTests
{
    [Fact]
    public void LoadsCommonLowercaseWordsWithTheirFirstGlossMostFrequentFirst()
    {
        var words = WordNet.LoadCommonWords(TestData.WordNetFixture);

        // Left out: Paris (capitalised in its synset), ice_cream (not letters only), rare (no tagged count),
        // attempt (its gloss "make an effort or attempt" uses the word itself).
        Assert.Equal(
            [
                new WordDefinition("dog", "noun", "a member of the genus Canis that has been domesticated by man since prehistoric times", 42),
                new WordDefinition("run", "verb", "move fast by using one's feet, with one foot off the ground at any given time", 30),
                new WordDefinition("sleep", "verb", "be asleep", 12),
                new WordDefinition("quickly", "adverb", "with rapid movements", 7),
                new WordDefinition("ephemeral", "adjective", "anything short-lived, as an insect that lives only for a day in its winged form", 3),
                new WordDefinition("lucid", "adjective", "(of language) transparently clear", 2),
            ],
            words);
    }

    [Fact]
    public void WithoutCntlistTheIndexTaggedSenseCountDecidesAndNounsWinTies()
    {
        var dir = Directory.CreateTempSubdirectory("wordnet-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(TestData.WordNetFixture).Where(f => !f.EndsWith("cntlist.rev", StringComparison.Ordinal)))
                File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));

            var words = WordNet.LoadCommonWords(dir);

            Assert.Equal(["dog", "ephemeral", "lucid", "quickly", "run"], words.Select(w => w.Word));
            Assert.Equal("a score in baseball made by a runner touching all four bases safely", words.Single(w => w.Word == "run").Gloss);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ParsesADataLineWithHexWordCountMarkersPointersAndFrames()
    {
        var synset = WordNet.ParseDataLine(
            "01234567 29 v 0a go 0 move 1 travel 0 locomote 0 wend 0 go_away 2 depart 0 get_going 0 proceed 0 sally_forth 0 001 @ 00000012 v 0000 01 + 02 00 | change location; move; \"how fast does your new car go?\"  ");

        Assert.NotNull(synset);
        Assert.Equal("01234567", synset.Offset);
        Assert.Equal(["go", "move", "travel", "locomote", "wend", "go_away", "depart", "get_going", "proceed", "sally_forth"], synset.Words);
        Assert.Equal("change location", synset.Gloss);
        Assert.Equal(["big", "large"], WordNet.ParseDataLine("00001740 00 a 02 big(a) 0 large(ip) 0 000 | above average in size")!.Words);
    }

    [Theory]
    [InlineData("not permanent; not lasting; \"politics is an impermanent factor\"", "not permanent")]
    [InlineData("a young person of either sex \"she writes books for children\"", "a young person of either sex")]
    [InlineData("with rapid movements  ", "with rapid movements")]
    public void ShortGlossStopsAtTheFirstSemicolonOrExample(string gloss, string expected) =>
        Assert.Equal(expected, WordNet.ShortGloss(gloss));

    [Fact]
    public void ParsesAnIndexLineSkippingPointerSymbols()
    {
        var entry = WordNet.ParseIndexLine("lucid a 4 3 & + ; 4 1 00429355 02073971 01925709 00431774  ");

        Assert.Equal(new WordNet.IndexEntry("lucid", 1, "00429355"), entry);
        Assert.Null(WordNet.ParseIndexLine("  1 This software and database is being provided to you, the LICENSEE, by  "));
    }

    [Fact]
    public void DefinitionAnswersNameTheWordItsPartOfSpeechAndGloss()
    {
        var examples = TestData.Generate(new DataMix(0, 60, 0, 0, 0), seed: 4, eval: false);

        Assert.Contains(examples, e => e.Assistant == "Dog (noun): a member of the genus Canis that has been domesticated by man since prehistoric times.");
        Assert.All(examples, e => Assert.Contains(e.Assistant[..e.Assistant.IndexOf(' ')].ToLowerInvariant(), e.User.ToLowerInvariant()));
    }
}
