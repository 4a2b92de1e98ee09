using System.Collections.Frozen;
using System.Net;
using System.Text;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// Colours code blocks on the server: keywords, strings, comments, numbers and literals of the languages people ask
/// models about, as <c>&lt;span class="tok-…"&gt;</c> around HTML-encoded text. One small scanner instead of a
/// JavaScript library: nothing to download, no script re-running on every streamed token, and the output is plain
/// markup the sanitizer checks like the rest. Unknown languages come back encoded and uncoloured.
/// </summary>
public static class CodeHighlighter
{
    private sealed record Language(
        FrozenSet<string> Keywords,
        string[] LineComments,
        (string Open, string Close)? BlockComment = null,
        string Quotes = "\"'",
        bool TripleQuotes = false);

    private static readonly FrozenSet<string> _literals = FrozenSet.ToFrozenSet(["true", "false", "null", "undefined", "None", "True", "False", "nil", "NULL", "nullptr"]);

    private static FrozenSet<string> Words(string words) => words.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToFrozenSet();

    private static readonly Language _cLike = new(Words(
        "abstract as async await base break case catch class const continue default delegate do else enum event explicit extern finally fixed for foreach goto if implicit in interface internal is lock namespace new operator out override params private protected public readonly record ref return sealed sizeof stackalloc static struct switch this throw try typeof unchecked unsafe using var virtual void volatile when where while yield get set init required bool byte char decimal double float int long object sbyte short string uint ulong ushort extends implements import package final native synchronized throws transient boolean auto register signed unsigned union typedef template typename inline constexpr"),
        ["//"], ("/*", "*/"));

    private static readonly Language _javaScript = new(Words(
        "async await break case catch class const continue debugger default delete do else export extends finally for from function if import in instanceof let new of return static super switch this throw try typeof var void while with yield interface type enum implements private protected public readonly declare namespace abstract as keyof"),
        ["//"], ("/*", "*/"), "\"'`");

    private static readonly Language _python = new(Words(
        "and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case self"),
        ["#"], null, "\"'", TripleQuotes: true);

    private static readonly Language _shell = new(Words(
        "if then else elif fi for while until do done case esac in function return local export set unset echo exit source alias sudo cd"),
        ["#"]);

    private static readonly Language _sql = new(Words(
        "select from where and or not insert into values update set delete create table index view drop alter add primary key foreign references join left right inner outer full on group by order having limit offset as distinct union all is null like between exists case when then else end begin commit rollback returning with"),
        ["--"], ("/*", "*/"), "'");

    private static readonly Language _go = new(Words(
        "break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var"),
        ["//"], ("/*", "*/"), "\"'`");

    private static readonly Language _rust = new(Words(
        "as async await break const continue crate dyn else enum extern fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait type unsafe use where while"),
        ["//"], ("/*", "*/"), "\"");

    private static readonly Language _json = new(FrozenSet<string>.Empty, []);

    private static readonly FrozenDictionary<string, Language> _languages = new Dictionary<string, Language>(StringComparer.OrdinalIgnoreCase)
    {
        ["c"] = _cLike, ["cpp"] = _cLike, ["c++"] = _cLike, ["h"] = _cLike, ["csharp"] = _cLike, ["cs"] = _cLike, ["c#"] = _cLike,
        ["java"] = _cLike, ["kotlin"] = _cLike, ["swift"] = _cLike,
        ["javascript"] = _javaScript, ["js"] = _javaScript, ["jsx"] = _javaScript, ["typescript"] = _javaScript, ["ts"] = _javaScript, ["tsx"] = _javaScript,
        ["python"] = _python, ["py"] = _python,
        ["bash"] = _shell, ["sh"] = _shell, ["shell"] = _shell, ["zsh"] = _shell, ["console"] = _shell, ["yaml"] = _shell, ["yml"] = _shell, ["toml"] = _shell,
        ["sql"] = _sql, ["postgresql"] = _sql,
        ["go"] = _go, ["golang"] = _go,
        ["rust"] = _rust, ["rs"] = _rust,
        ["json"] = _json,
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    public static bool Knows(string? language) => language is not null && _languages.ContainsKey(language);

    /// <summary>HTML for the inside of <c>&lt;code&gt;</c>: the code encoded, with coloured spans if the language is known.</summary>
    public static string ToHtml(string code, string? language)
    {
        ArgumentNullException.ThrowIfNull(code);
        if (language is null || !_languages.TryGetValue(language, out var lang))
            return WebUtility.HtmlEncode(code);

        var html = new StringBuilder(code.Length * 2);
        var sqlLike = ReferenceEquals(lang, _sql); // SQL keywords are case-insensitive
        var i = 0;
        while (i < code.Length)
        {
            var start = i;
            string? kind;
            if (lang.BlockComment is { } block && At(code, i, block.Open))
            {
                var end = code.IndexOf(block.Close, i + block.Open.Length, StringComparison.Ordinal);
                i = end < 0 ? code.Length : end + block.Close.Length;
                kind = "com";
            }
            else if (lang.LineComments.Any(c => At(code, i, c)) && !IsShellParameter(code, i, lang))
            {
                i = LineEnd(code, i);
                kind = "com";
            }
            else if (lang.Quotes.Contains(code[i], StringComparison.Ordinal))
            {
                i = StringEnd(code, i, lang.TripleQuotes);
                kind = "str";
            }
            else if (char.IsAsciiDigit(code[i]) && (i == 0 || !IsWordChar(code[i - 1])))
            {
                while (i < code.Length && (char.IsAsciiLetterOrDigit(code[i]) || code[i] is '_' or '.' && i + 1 < code.Length && char.IsAsciiDigit(code[i + 1])))
                    i++;
                kind = "num";
            }
            else if (IsWordChar(code[i]))
            {
                while (i < code.Length && IsWordChar(code[i]))
                    i++;
                var word = code[start..i];
                kind = _literals.Contains(word) ? "lit"
                    : lang.Keywords.Contains(word) || sqlLike && lang.Keywords.Contains(word.ToLowerInvariant()) ? "kw"
                    : null;
            }
            else
            {
                i++;
                kind = null;
            }

            var text = WebUtility.HtmlEncode(code[start..i]);
            html.Append(kind is null ? text : $"<span class=\"tok-{kind}\">{text}</span>");
        }
        return html.ToString();
    }

    private static bool At(string code, int i, string token) => string.CompareOrdinal(code, i, token, 0, token.Length) == 0;

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '$';

    // "$#" and "${#x}" in shell are not comments, nor is a '#' inside a word ("a#b").
    private static bool IsShellParameter(string code, int i, Language lang) =>
        ReferenceEquals(lang, _shell) && i > 0 && (code[i - 1] is '$' or '{' || IsWordChar(code[i - 1]));

    private static int LineEnd(string code, int i)
    {
        var end = code.IndexOf('\n', i);
        return end < 0 ? code.Length : end;
    }

    // To the closing quote, past backslash escapes; a single-quoted string also ends at the line's end (unclosed).
    private static int StringEnd(string code, int i, bool tripleQuotes)
    {
        var quote = code[i];
        if (tripleQuotes && i + 2 < code.Length && code[i + 1] == quote && code[i + 2] == quote)
        {
            var close = code.IndexOf(new string(quote, 3), i + 3, StringComparison.Ordinal);
            return close < 0 ? code.Length : close + 3;
        }
        for (var j = i + 1; j < code.Length; j++)
        {
            if (code[j] == '\\')
                j++;
            else if (code[j] == quote)
                return j + 1;
            else if (code[j] == '\n' && quote != '`')
                return j;
        }
        return code.Length;
    }
}
