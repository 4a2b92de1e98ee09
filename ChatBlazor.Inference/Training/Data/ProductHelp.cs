using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>One "## " section of the user guide: the heading is a task, the first paragraph its short answer.</summary>
public sealed record GuideSection(string Heading, string Answer);

/// <summary>
/// Turns each user-guide section into Q/A pairs: questions from templates × task phrasings (the heading itself plus
/// the aliases below), answers the section's first paragraph in plain text, with **bold** UI names as "quoted" names.
/// Train and eval share the task phrasings but use disjoint question templates.
/// </summary>
internal static partial class ProductHelp
{
    public const string EmbeddedGuideName = "ChatBlazor.Inference.Training.Data.user-guide.md";

    // Other ways users name a section's task, keyed by heading. A heading not listed here still gets questions.
    private static readonly Dictionary<string, string[]> _aliases = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Start a new chat"] = ["start a new conversation", "open a new chat", "begin a fresh chat", "make a new chat"],
        ["Open an earlier conversation"] = ["find my old chats", "go back to a previous conversation", "see my chat history", "reopen an old chat"],
        ["Stop a reply"] = ["stop the answer", "cancel a response", "stop generating", "interrupt the assistant"],
        ["Regenerate a reply"] = ["get a different answer", "retry a response", "regenerate an answer", "redo the last reply"],
        ["Switch between reply versions"] = ["see the previous answer after regenerating", "go back to an older reply", "use the < 2/3 > arrows", "compare reply versions"],
        ["Edit a message"] = ["change a message I sent", "fix a typo in my message", "edit my prompt", "branch a conversation"],
        ["Change the model"] = ["switch models", "use a different model", "pick another model", "select a model"],
        ["Set a system prompt"] = ["give the assistant standing instructions", "change the system prompt", "set custom instructions", "add a system message"],
        ["Change the temperature"] = ["make answers more creative", "set the temperature", "make replies less random", "adjust temperature"],
        ["Change top-p"] = ["set top-p", "adjust top p", "change nucleus sampling", "change the top_p setting"],
        ["Limit the reply length"] = ["set max tokens", "make replies shorter", "change the maximum number of tokens", "cap the answer length"],
        ["Create an API key"] = ["get an API key", "generate an api key", "make a new API key", "get a key for the API"],
        ["Recover a lost API key"] = ["see my API key again", "find an API key I lost", "show an existing API key", "get back my api key"],
        ["See usage and quota"] = ["check my usage", "see how much quota I have left", "view my billing", "check my token usage"],
        ["Export a conversation"] = ["download a chat", "save a conversation as Markdown", "export a chat as JSON", "export my chat"],
        ["Turn on dark mode"] = ["switch to dark mode", "enable the dark theme", "change the theme", "turn off dark mode"],
        ["Use the admin console"] = ["open the admin console", "get to the admin page", "manage users as an admin", "find the admin settings"],
    };

    private static readonly string[] _trainTemplates =
    [
        "How do I {t}?", "how can i {t}", "how to {t}", "How can I {t} in ChatBlazor?", "Where do I go to {t}?",
        "Is there a way to {t}?", "can I {t}?", "help me {t}", "what's the way to {t}", "How do you {t}?",
        "i want to {t}", "ChatBlazor: how to {t}?", "Where can I {t}?", "how would I {t}",
        // Requests said as statements, which the first model read as small talk or as something to refuse.
        "I don't know how to {t}.", "I can't figure out how to {t}.", "I'm stuck: I want to {t}.", "I need to {t}. How?",
        "Tell me how to {t}.", "Explain how to {t} please", "Show me how to {t}.", "Is it possible to {t}?",
        "How would one {t}?", "What do I click to {t}?", "Where's the option to {t}?", "Could you help me {t}?",
        "What should I do to {t}?", "I want to {t}, where do I start?", "not sure how to {t}", "What are the steps to {t}?",
        "I tried to {t} and couldn't.", "how does one {t} here?",
        "How might I {t}?", "Do you know how I can {t}?", "Any tips to {t}?", "how could I {t}", "What's the trick to {t}?",
        "Guide me to {t}.", "I wish I knew how to {t}.", "Where is the button to {t}?", "Instructions to {t}, please.",
        "Can you tell me the way to {t}?", "I'm new here. How do I {t}?", "what do I do if I want to {t}?",
    ];

    private static readonly string[] _evalTemplates =
    [
        "I'd like to {t}. What should I do?", "Could you explain how one would {t}?", "Steps to {t}?",
        "I'm trying to {t} but I'm not sure how.", "Any idea how I might {t}?", "Walk me through how to {t}.",
    ];

    public static string ReadEmbeddedGuide()
    {
        using var stream = typeof(ProductHelp).Assembly.GetManifestResourceStream(EmbeddedGuideName)
            ?? throw new InvalidOperationException($"Embedded resource {EmbeddedGuideName} is missing; embed docs/user-guide.md in the project.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Every "## " section with its first paragraph as plain text (HTML comments skipped).</summary>
    public static IReadOnlyList<GuideSection> ParseGuide(string markdown)
    {
        var sections = new List<GuideSection>();
        var text = Comment().Replace(markdown.Replace("\r\n", "\n", StringComparison.Ordinal), "");
        foreach (var block in text.Split("\n## ").Skip(1))
        {
            var lines = block.Split('\n');
            var heading = lines[0].Trim();
            var paragraph = lines.Skip(1).SkipWhile(string.IsNullOrWhiteSpace).TakeWhile(l => !string.IsNullOrWhiteSpace(l));
            var answer = PlainText(string.Join(' ', paragraph.Select(l => l.Trim())));
            if (heading.Length > 0 && answer.Length > 0)
                sections.Add(new GuideSection(heading, answer));
        }
        return sections;
    }

    public static IReadOnlyList<string> TaskPhrasings(string heading) =>
        [char.ToLowerInvariant(heading[0]) + heading[1..], .. _aliases.GetValueOrDefault(heading) ?? []];

    public static IEnumerable<ChatExample> Generate(string markdown, int count, Random rng, bool eval)
    {
        var sections = ParseGuide(markdown);
        if (sections.Count == 0)
            throw new InvalidOperationException("The user guide has no '## ' sections.");
        for (var i = 0; i < count; i++)
        {
            // Round-robin over sections so every topic is covered even in a small set.
            var section = sections[i % sections.Count];
            var task = rng.Pick(TaskPhrasings(section.Heading));
            var user = Phrasing.Fill(rng.Pick(eval ? _evalTemplates : _trainTemplates), "t", task);
            if (!eval)
                user = Phrasing.Wrap(user, rng);
            yield return new ChatExample(DataCategory.ProductHelp, user, section.Answer, section.Heading);
        }
    }

    private static string PlainText(string markdown)
    {
        var text = Bold().Replace(markdown, "\"$1\"");
        return text.Replace("`", "", StringComparison.Ordinal);
    }

    [GeneratedRegex(@"<!--.*?-->", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"\*\*(.+?)\*\*")]
    private static partial Regex Bold();
}
