using System.Text.RegularExpressions;

namespace ChatBlazor.Core.Moderation.Rules;

/// <summary>
/// The built-in rules (personal data, secrets, jailbreak phrasings, encoded payloads) and the check an admin's
/// edit must pass before it is stored. Phrase patterns are written in lower case for text that
/// <see cref="TextNormalizer"/> has folded.
/// </summary>
public static class ModerationRules
{
    private const string Pii = ModerationCategories.Pii, Jailbreak = ModerationCategories.Jailbreak;

    public static IReadOnlyList<ModerationRule> Defaults { get; } =
    [
        // Personal data: checksums where the format has one, a typed placeholder each.
        new("pii.card", Pii, RuleKinds.Card, RuleKinds.CardPattern, "[CARD]"),
        new("pii.iban", Pii, RuleKinds.Iban, RuleKinds.IbanPattern, "[IBAN]"),
        new("pii.email", Pii, RuleKinds.Regex, @"(?<![\w.%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,24}\b", "[EMAIL]"),
        // +CC then groups that each need a separator, so digits cannot be split ambiguously (no backtracking blow-up); or +CC and digits unbroken.
        new("pii.phone.international", Pii, RuleKinds.Phone, @"(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\))?(?:[ .-]\d{1,8}){1,6}(?![\w-])|(?<![\w+])\+[1-9]\d{7,14}(?!\w)", "[PHONE]"),
        new("pii.phone.us", Pii, RuleKinds.Phone, @"(?<![\w#-])(?:\([2-9]\d{2}\) ?|[2-9]\d{2}-)[2-9]\d{2}-\d{4}(?![\w-])", "[PHONE]"),
        new("pii.phone.uk", Pii, RuleKinds.Phone, @"(?<![\w#+-])0(?:\d{4} \d{6}|\d{3} \d{3} \d{4}|\d{2} \d{4} \d{4})(?![\w-])", "[PHONE]"),
        new("pii.phone.de", Pii, RuleKinds.Phone, @"(?<![\w#+/-])0(?:1[5-7]\d{1,2}[ /-]?\d{7,8}|[2-9]\d{1,4}[ /]\d{5,8})(?![\w/-])", "[PHONE]"),
        new("pii.phone.fr", Pii, RuleKinds.Phone, @"(?<![\w#+.-])0[1-9]([ .])\d{2}(?:\1\d{2}){3}(?![\w.-])", "[PHONE]"),
        new("pii.ssn", Pii, RuleKinds.Ssn, RuleKinds.SsnPattern, "[SSN]"),

        // Secrets: provider key formats, private key blocks, passwords in assignments.
        new("secret.openai", Pii, RuleKinds.Regex, @"(?<![\w-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}", "[SECRET]"),
        new("secret.anthropic", Pii, RuleKinds.Regex, @"(?<![\w-])sk-ant-(?:api|admin|oat|ort)\d{2}-[A-Za-z0-9_-]{20,}", "[SECRET]"),
        new("secret.aws-access-key", Pii, RuleKinds.Regex, @"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])", "[SECRET]"),
        new("secret.github", Pii, RuleKinds.Regex, @"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?!\w)", "[SECRET]"),
        new("secret.stripe", Pii, RuleKinds.Regex, @"(?<!\w)(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}(?!\w)", "[SECRET]"),
        new("secret.slack", Pii, RuleKinds.Regex, @"(?<!\w)xox[baprs]-[A-Za-z0-9-]{10,}", "[SECRET]"),
        new("secret.google", Pii, RuleKinds.Regex, @"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])", "[SECRET]"),
        new("secret.jwt", Pii, RuleKinds.Regex, @"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}", "[SECRET]"),
        // An unterminated block (a truncated paste, a reply still streaming) is a secret up to the end of the text.
        new("secret.private-key", Pii, RuleKinds.Regex, @"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\z)", "[SECRET]"),
        // "password": "…" and password='…' (the whole quoted value), password=… (up to a space or separator), and
        // password: … only when the value has a digit or symbol, so prose like "password: remember to change it"
        // passes. Only the value is replaced.
        new("secret.password", Pii, RuleKinds.Regex,
            """(?i)(?<![a-z])(?:password|passwd|pwd|passphrase|passcode)["']?\s*[:=]\s*(["'])(?<value>[^"'\r\n]{1,200})\1"""
            + """|(?<![a-z])(?:password|passwd|pwd|passphrase|passcode)["']?\s*=\s*(?<value>[^\s"'&,;]{3,})"""
            + """|(?<![a-z])(?:password|passwd|pwd|passphrase|passcode)\s*:\s*(?<value>(?=\S*[\d!@#$%^&*_+=~-])[^\s"'&,;]{4,})""",
            "[PASSWORD]"),

        // Jailbreak: instruction override.
        new("jailbreak.override", Jailbreak, RuleKinds.Phrase,
            @"\b(?:ignore|disregard|forget|override|bypass)\s+(?:(?:all|any|every|the|of|these|those|my)\s+)*(?:your|previous|prior|above|earlier|preceding|foregoing|initial|original|system|safety)\s+(?:(?:previous|prior|above|earlier|initial|original|system|safety)\s+)?(?:instructions?|prompts?|rules|directions?|guidelines|commands?|programming|context|constraints|guardrails|policies|restrictions)\b"
            + @"|\b(?:ignore|disregard|forget)\s+everything\s+(?:above|before\s+this|you\s+(?:were|have\s+been)\s+told)\b"
            + @"|\byou(?:\s+are|['’]re)\s+no\s+longer\s+(?:bound|restricted|limited|constrained|required\s+to\s+follow|an?\s+ai)\b"
            + @"|\b(?:new|updated|real)\s+(?:system\s+)?instructions\s*:", null),
        // Role-play bypasses.
        new("jailbreak.roleplay", Jailbreak, RuleKinds.Phrase,
            @"\bdo\s+anything\s+now\b"
            + @"|\b(?:chatgpt|gpt|ai|assistant|model|llm|you)\s+(?:(?:are|are\s+now|will\s+be|now)\s+)?(?:with|in|into|running\s+in|using)\s+(?:the\s+)?(?:developer|dev|god|jailbreak|jailbroken|dan|unrestricted|unfiltered)\s+mode\b"
            + @"|\b(?:developer|god|jailbreak|dan)\s+mode\s+(?:enabled|activated)\b.{0,80}\b(?:chatgpt|ai|assistant|model|policies|censorship|filters)\b"
            + @"|\b(?:act|respond|reply|answer|behave|stay)\b.{0,30}\b(?:in|as)\s+(?:developer|god|jailbreak|dan)\s+mode\b"
            + @"|\b(?:pretend|imagine|act\s+as\s+if|suppose|assume)\s+(?:that\s+)?(?:you|u)\b.{0,30}\b(?:have\s+no|had\s+no|with\s+no|without|free\s+(?:of|from)|not\s+bound\s+by)\s+(?:any\s+)?(?:\w+\s+)?(?:restrictions|rules|limits|limitations|filters|guidelines|censorship|ethics|morals|boundaries|guardrails|content\s+polic(?:y|ies))"
            + @"|\b(?:act|behave|respond|answer|pretend|roleplay|role-play|pose)\s+(?:to\s+be\s+|as\s+|like\s+)(?:an?\s+|the\s+)?(?:\w+\s+)?(?:unfiltered|uncensored|unrestricted|unaligned|amoral|unethical|evil|jailbroken|unbound)\s+(?:ai|assistant|model|chatbot|bot|version|llm|language\s+model)\b"
            + @"|\byou\s+are\s+(?:now\s+)?(?:an?\s+)?(?:unfiltered|uncensored|unrestricted|jailbroken|amoral)\b", null),
        // System-prompt extraction.
        new("jailbreak.prompt-extraction", Jailbreak, RuleKinds.Phrase,
            @"\b(?:repeat|print|reveal|show|output|display|tell|give|write|leak|dump|recite|share|disclose|paste)\s+(?:me\s+|us\s+)?(?:back\s+)?(?:out\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:(?:full|entire|exact|complete|original|initial|hidden|secret|first)\s+)*(?:system\s+(?:prompt|message|instructions)|(?:initial|original|hidden|secret|first)\s+(?:prompt|instructions)|pre-?prompt|instructions)\b"
            + @"|\bwhat\s+(?:is|are|was|were)\s+your\s+(?:system\s+prompt|(?:initial|original|hidden|secret)\s+(?:instructions|prompt))\b"
            + @"|\b(?:repeat|print|reveal|output|recite|show)\s+(?:me\s+)?(?:the\s+|this\s+)?(?:conversation'?s?\s+)?(?:hidden|secret)\s+(?:system\s+)?(?:prompt|instructions)\b"
            + @"|\b(?:repeat|print|output|recite|reveal)\s+(?:back\s+)?(?:everything|all\s+(?:of\s+)?the\s+(?:text|words))\s+(?:above|before\s+this|so\s+far)\b"
            + @"|\b(?:repeat|reveal|recite)\s+(?:back\s+)?the\s+(?:text|words|content|instructions)\s+above\b"
            + @"|\b(?:print|output|show|display)\s+(?:back\s+)?the\s+(?:text|words|content|message|lines?)\s+above\b.{0,40}\b(?:verbatim|word\s+for\s+word|exactly|starting\s+with|in\s+full|unchanged)", null),
        // Instructions planted in pasted documents, web pages and emails, addressed to the model rather than the reader.
        new("jailbreak.injection", Jailbreak, RuleKinds.Phrase,
            @"<!--\s*(?:assistant|ai|system|model|chatgpt|llm|instructions?)\s*:"
            + @"|\[(?:system|assistant|instructions?)\]\s*\(#"
            + @"|<\|?(?:im_start|system|endoftext)\|?>"
            + @"|\b(?:(?:note|message|instructions?)\s+(?:to|for)\s+(?:the\s+|any\s+)?)?(?:ai|ai\s+assistant|assistant|model|language\s+model|llm|chatbot|chatgpt|claude|gpt)\s*:\s*(?:please\s+)?(?:ignore|disregard|forget|do\s+not|don't|instead|you\s+must|from\s+now\s+on|stop\s+following|new\s+instructions)\b"
            + @"|\b(?:if|when)\s+you\s+are\s+an?\s+(?:ai|language\s+model|llm|assistant|chatbot)\b.{0,60}\b(?:ignore|you\s+must|instead|do\s+not|don't|disregard)\b", null),

        // The phrase rules again, on payloads hidden in encodings.
        new("jailbreak.encoded.base64", Jailbreak, RuleKinds.Base64, RuleKinds.Base64Pattern, null),
        new("jailbreak.encoded.hex", Jailbreak, RuleKinds.Hex, RuleKinds.HexPattern, null),
        new("jailbreak.encoded.url", Jailbreak, RuleKinds.UrlEncoded, RuleKinds.UrlEncodedPattern, null),
    ];

    private static readonly Regex IdShape = new(@"^[a-z0-9]+(?:[.-][a-z0-9]+)*$", RegexOptions.CultureInvariant);

    /// <summary>Why <paramref name="rule"/> cannot be used, in words an admin can act on, naming the rule; null if it can.</summary>
    public static string? Validate(ModerationRule rule)
    {
        if (string.IsNullOrWhiteSpace(rule.Id)) return "A moderation rule needs an id (lower case, dotted: pii.card).";
        if (!IdShape.IsMatch(rule.Id))
            return $"Rule '{rule.Id}': the id must be lower-case letters and digits separated by dots or dashes (pii.card, secret.aws-access-key).";
        if (!ModerationCategories.All.Contains(rule.Category))
            return $"Rule '{rule.Id}': unknown category '{rule.Category}'; use one of {string.Join(", ", ModerationCategories.All)}.";
        if (!RuleKinds.All.Contains(rule.Kind))
            return $"Rule '{rule.Id}': unknown kind '{rule.Kind}'; use one of {string.Join(", ", RuleKinds.All)}.";
        var pattern = rule.Pattern ?? RuleKinds.DefaultPattern(rule.Kind);
        if (string.IsNullOrWhiteSpace(pattern))
            return $"Rule '{rule.Id}': a rule of kind '{rule.Kind}' needs a pattern.";
        try
        {
            _ = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            return $"Rule '{rule.Id}': the pattern is not a valid regular expression: {e.Message}";
        }
        if (rule.Placeholder is { } placeholder && (placeholder.Length is 0 or > 40 || placeholder.Any(char.IsControl)))
            return $"Rule '{rule.Id}': the placeholder must be 1–40 printable characters, like [CARD].";
        return null;
    }
}
