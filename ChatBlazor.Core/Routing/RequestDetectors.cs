using System.Text.RegularExpressions;

namespace ChatBlazor.Core.Routing;

/// <summary>
/// Small, explicit detectors for routing: a handful of patterns each, readable and tested, rather than a classifier
/// nobody can reason about. They err towards "no" on everyday words that only look technical ("dress code", "a
/// 2-3 day trip"), because a wrong "yes" sends a chat to a bigger, slower model. Their agreement with a labelled set is
/// measured (docs/benchmarks.md, "Routing agreement").
/// </summary>
public static partial class RequestDetectors
{
    public static bool Detects(RequestTopic topic, string text) => topic switch
    {
        RequestTopic.Code => IsCode(text),
        RequestTopic.Maths => IsMaths(text),
        RequestTopic.ChatBlazor => IsAboutChatBlazor(text),
        _ => false,
    };

    /// <summary>Source code in the message, or a question naming a programming language or a programmer's task.</summary>
    public static bool IsCode(string text) =>
        text.Contains("```", StringComparison.Ordinal) || CodeSyntax().IsMatch(text) || CodeWords().IsMatch(text);

    /// <summary>Arithmetic or an equation written out, or a question in the vocabulary of mathematics.</summary>
    public static bool IsMaths(string text) => Arithmetic().IsMatch(text) || Equation().IsMatch(text) || MathsWords().IsMatch(text);

    /// <summary>The product named, or a question about this service's own features (plans, keys, conversations).</summary>
    public static bool IsAboutChatBlazor(string text) => text.Contains("chatblazor", StringComparison.OrdinalIgnoreCase) || ServiceQuestion().IsMatch(text);

    // Lines that only code has: a call ending in ';', a definition, an import, an arrow function, a SQL query.
    [GeneratedRegex(@"(\w\(.*\)\s*;\s*$)|(^\s*(def|class|function|public|private|static|import|from\s+\w+\s+import|#include|using\s+System|package|fn|func|let|const|var)\b.*[\(\{:=;]\s*$)|(=>\s*\{)|(\bSELECT\b[\s\S]+\bFROM\b)|(</?[a-z]+[^>]*>)",
        RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex CodeSyntax();

    [GeneratedRegex(@"\b(python|javascript|typescript|java|c#|c\+\+|golang|rust (code|program|compiler|borrow checker|crate)|in rust|kotlin|swift|ruby|php|sql|bash|powershell|regex|regular expression|json|yaml|html|css|dockerfile|compile[rs]?|compilation error|stack ?trace|exception|null ?pointer|segfault|debug(ging)?|refactor|unit tests?|git|api endpoint|function that|write a (script|program|function|class|method)|code (snippet|review)|source code|syntax error|linked list|recursion|algorithm)\b",
        RegexOptions.IgnoreCase)]
    private static partial Regex CodeWords();

    // Two numbers joined by an operator; '-' and '/' only with spaces around them, as dates, ranges and fractions in
    // prose ("2024-05-01", "2-3 days", "1/2 cup") are not sums.
    [GeneratedRegex(@"\d\s*[+*×÷^]\s*\d|\d\s+[-/]\s+\d|\d\s*[-+*/]\s*\d+\s*=|\bsqrt\b|\\frac|\\int|∫|∑|√")]
    private static partial Regex Arithmetic();

    // An equation with an unknown: "2x + 3 = 7", "x^2 = 4".
    [GeneratedRegex(@"\b\d*[a-z]\s*(\^\s*\d+)?\s*[-+]\s*\d+\s*=\s*-?\d+|\b[a-z]\s*\^\s*\d+")]
    private static partial Regex Equation();

    [GeneratedRegex(@"\b(integral|integrate|derivative|differentiate|equation|solve for|theorem|prove that|proof that|probability|matrix|matrices|eigen\w*|logarithm|factorial|prime numbers?|polynomial|quadratic|calculus|algebra|geometry|trigonometry|hypotenuse|standard deviation|variance|percent of|percentage of|how much is \d|what is \d+)\b",
        RegexOptions.IgnoreCase)]
    private static partial Regex MathsWords();

    // Questions about this service: its plans, keys, conversations and settings, asked of "you", "this app" or "my account".
    [GeneratedRegex(@"\b(this (app|site|service|chat app|assistant|platform)|your (plans?|pricing|api|models?|app)|my (plan|subscription|account|api keys?|conversations?|chat history|usage|quota)|(upgrade|downgrade|cancel) (to|my|the)\b|(which|what) models? (do|does|can) (you|i)|rate limit|tokens? per (minute|day)|system prompt|regenerate|share (a|this|my) conversation|export (my|a|the) (chats?|conversations?|data)|delete my (account|data|conversations?)|dark mode)\b",
        RegexOptions.IgnoreCase)]
    private static partial Regex ServiceQuestion();
}
