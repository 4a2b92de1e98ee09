using ChatBlazor.Core.Moderation.Rules;

namespace ChatBlazor.Core.Tests.Moderation;

/// <summary>The streaming redactor on replies cut into pieces the way a model emits them.</summary>
public class StreamRedactorTests
{
    private static readonly RuleDetector Detector = new(ModerationRules.Defaults);

    /// <summary>Feeds the pieces and returns everything shown, in order, and the text shown after each piece.</summary>
    private static (string All, List<string> AfterEach) Stream(IEnumerable<string> pieces)
    {
        var redactor = new StreamRedactor(Detector);
        var shown = new System.Text.StringBuilder();
        var afterEach = new List<string>();
        foreach (var piece in pieces)
        {
            shown.Append(redactor.Push(piece));
            afterEach.Add(shown.ToString());
        }
        shown.Append(redactor.Flush());
        return (shown.ToString(), afterEach);
    }

    private static IEnumerable<string> Chars(string text) => text.Select(c => c.ToString());

    [Fact]
    public void ACardNumberSplitIntoSingleCharactersComesOutAsAPlaceholder()
    {
        var (all, _) = Stream(Chars("Sure! The card on file is 4111 1111 1111 1111, expiring 12/29."));
        Assert.Equal("Sure! The card on file is [CARD], expiring 12/29.", all);
    }

    [Fact]
    public void NoDigitsOfTheCardAreEverShown()
    {
        // Shown text only grows, so checking the final text covers every intermediate one; checking each step says where.
        var (all, afterEach) = Stream(["Your number: 41", "11-11", "11-", "1", "111-1", "111 thanks"]);
        Assert.Equal("Your number: [CARD] thanks", all);
        Assert.All(afterEach, shown => Assert.DoesNotContain("41", shown));
    }

    [Fact]
    public void EmailsKeysAndPasswordsSplitAcrossPiecesAreRedacted()
    {
        var key = "sk-" + "proj-" + "abc123DEF456ghi789JKL012mno345";
        var text = $"Contact jane.doe@example.com, use key {key} and password=\"hunter22\" on +44 20 7946 0958.";
        var pieces = Enumerable.Range(0, (text.Length + 2) / 3).Select(i => text.Substring(i * 3, Math.Min(3, text.Length - i * 3)));
        var (all, _) = Stream(pieces);
        Assert.Equal("Contact [EMAIL], use key [SECRET] and password=\"[PASSWORD]\" on [PHONE].", all);
    }

    [Fact]
    public void OrdinaryTextIsShownByTheWordAtTheLatest()
    {
        var words = "The quick brown fox jumps over the lazy dog, and then it rests. ".Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var redactor = new StreamRedactor(Detector);
        var shown = "";
        var sent = "";
        foreach (var word in words)
        {
            sent += word + " ";
            shown += redactor.Push(word + " ");
            // A piece that ends with a space after a lower-case word or punctuation cannot grow into a match: all shown.
            Assert.Equal(sent, shown);
            Assert.Equal(0, redactor.Held);
        }
    }

    [Theory]
    [InlineData("w0 ", "w1 ", "w2 ", "w3 ")]
    [InlineData("Step 1: open it. ", "Step 2: close it. ", "Version v2 ", "and x86 ")]
    public void WordsEndingInADigitAreNotHeldAsIfTheyStartedANumber(params string[] pieces)
    {
        var redactor = new StreamRedactor(Detector);
        foreach (var piece in pieces)
        {
            // A space after "w1" or "v2" cannot continue a card, phone number or IBAN: the piece goes out whole.
            Assert.Equal(piece, redactor.Push(piece));
            Assert.Equal(0, redactor.Held);
        }
    }

    [Fact]
    public void NumberGroupsKeepTheTailHeldUntilTheNumberCanNoLongerGrow()
    {
        var redactor = new StreamRedactor(Detector);
        Assert.Equal("Call ", redactor.Push("Call +44 "));
        Assert.Equal("", redactor.Push("20 7946 "));
        Assert.Equal("[PHONE] now. ", redactor.Push("0958 now. "));
        Assert.Equal("Pay to ", redactor.Push("Pay to GB82 WEST "));
        Assert.Equal("[IBAN] ok", redactor.Push("1234 5698 7654 32 ok") + redactor.Flush());
    }

    [Fact]
    public void AWordInProgressIsHeldOnlyUntilItEnds()
    {
        var redactor = new StreamRedactor(Detector);
        Assert.Equal("Hello ", redactor.Push("Hello wor"));
        Assert.Equal(3, redactor.Held);
        Assert.Equal("world. ", redactor.Push("ld. "));
        Assert.Equal("", redactor.Flush());
    }

    [Fact]
    public void APrivateKeyBlockIsRedactedWhole()
    {
        var key = "-----BEGIN " + "EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oO\n-----END EC PRIVATE KEY-----";
        var (all, _) = Stream(Chars($"Here it is:\n{key}\nKeep it safe."));
        Assert.Equal("Here it is:\n[SECRET]\nKeep it safe.", all);
    }

    [Fact]
    public void APrivateKeyLongerThanTheCapIsNeverShown()
    {
        var body = string.Concat(Enumerable.Range(0, 40).Select(i => $"MIIEpAIBAAKCAQEA{i:D4}q9XkZ0abcdefGHIJklmnOPQRstuvWXYZ0123456789ab\n"));
        var key = "-----BEGIN " + "RSA PRIVATE KEY-----\n" + body + "-----END RSA PRIVATE KEY-----";
        Assert.True(key.Length > 2 * StreamRedactor.MaxHeld);
        var redactor = new StreamRedactor(Detector);
        var shown = new System.Text.StringBuilder();
        var maxHeld = 0;
        foreach (var piece in Chars($"Key:\n{key}\nDone."))
        {
            shown.Append(redactor.Push(piece));
            maxHeld = Math.Max(maxHeld, redactor.Held);
        }
        shown.Append(redactor.Flush());
        Assert.Equal("Key:\n[SECRET]\nDone.", shown.ToString());
        Assert.True(maxHeld <= StreamRedactor.MaxHeld, $"held {maxHeld} characters");
    }

    [Fact]
    public void HeldTextNeverExceedsTheCap()
    {
        // One long run without a break (a base64 blob) could always grow; the cap still releases it.
        var blob = string.Concat(Enumerable.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo", 60));
        var redactor = new StreamRedactor(Detector);
        var shown = new System.Text.StringBuilder();
        foreach (var piece in Chars(blob))
        {
            shown.Append(redactor.Push(piece));
            Assert.True(redactor.Held <= StreamRedactor.MaxHeld);
        }
        shown.Append(redactor.Flush());
        Assert.Equal(blob, shown.ToString());
    }
}
