using System.Text;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// A reply's Markdown while it streams, rendered so that each update costs its new tail, not the whole reply: the
/// text up to the last paragraph break that Markdown cannot reach across (a blank line outside a code fence, before a
/// line that neither continues a list nor is indented) is rendered once, block by block; only the open block after
/// it is rendered again. A list or footnote split across such a break may look slightly different until the reply
/// ends; the finished reply is rendered whole (<see cref="MarkdownRenderer.ToHtml"/>).
/// </summary>
public sealed class StreamingMarkdown
{
    private readonly StringBuilder _text = new();
    private readonly List<string> _blocks = [];
    private int _rendered; // characters of _text rendered into _blocks

    /// <summary>HTML of the finished blocks, oldest first; each stays the same string once made.</summary>
    public IReadOnlyList<string> Blocks => _blocks;

    /// <summary>HTML of the block still being written.</summary>
    public string Tail { get; private set; } = "";

    /// <summary>Changes with every update, so a component knows when to redraw.</summary>
    public int Version { get; private set; }

    public int Length => _text.Length;

    public string Text => _text.ToString();

    /// <summary>From <paramref name="offset"/> on, the text is now <paramref name="text"/> (usually an append).</summary>
    public void Apply(int offset, string text)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentNullException.ThrowIfNull(text);
        offset = Math.Min(offset, _text.Length);
        if (offset < _rendered)
        {
            // The text changed inside finished blocks (a reply resumed from its saved text): start over.
            _blocks.Clear();
            _rendered = 0;
        }
        _text.Length = offset;
        _text.Append(text);
        for (var cut = NextCut(_text, _rendered); cut > 0; cut = NextCut(_text, _rendered))
        {
            _blocks.Add(MarkdownRenderer.ToHtml(_text.ToString(_rendered, cut - _rendered)));
            _rendered = cut;
        }
        Tail = MarkdownRenderer.ToHtml(_text.ToString(_rendered, _text.Length - _rendered));
        Version++;
    }

    /// <summary>
    /// The end of the first finished block after <paramref name="start"/> (which is never inside a fence): the start
    /// of the line after a blank line, outside code fences, when that line starts a new block. 0 when there is none yet.
    /// </summary>
    internal static int NextCut(StringBuilder text, int start)
    {
        var inFence = false;
        var previousBlank = false;
        var line = start;
        while (line < text.Length)
        {
            var end = IndexOf(text, '\n', line);
            if (previousBlank && !inFence && line > start && StartsBlock(text, line, end < 0 ? text.Length : end, complete: end >= 0))
                return line;
            if (end < 0)
                return 0; // the last line is still being written
            var (first, firstAt) = FirstChar(text, line, end);
            if (firstAt - line < 4 && (first is '`' or '~') && Repeats(text, firstAt, end, first, 3))
                inFence = !inFence;
            previousBlank = first == '\0';
            line = end + 1;
        }
        return 0;
    }

    // A line that does not continue what came before: not indented, not a list item, not a table row. A line still
    // being written counts once what has arrived decides it ("12" could still become "12. item").
    private static bool StartsBlock(StringBuilder text, int line, int end, bool complete)
    {
        if (line == end)
            return false;
        var c = text[line];
        if (c is ' ' or '\t' or '|' or '-' or '*' or '+' or '[')
            return false;
        var i = line;
        while (i < end && char.IsAsciiDigit(text[i]))
            i++;
        if (i == end && !complete)
            return false;
        return !(i > line && i < end && text[i] is '.' or ')');
    }

    private static (char First, int At) FirstChar(StringBuilder text, int from, int end)
    {
        for (var i = from; i < end; i++)
            if (!char.IsWhiteSpace(text[i]))
                return (text[i], i);
        return ('\0', end);
    }

    private static bool Repeats(StringBuilder text, int from, int end, char c, int times)
    {
        for (var i = 0; i < times; i++)
            if (from + i >= end || text[from + i] != c)
                return false;
        return true;
    }

    private static int IndexOf(StringBuilder text, char c, int from)
    {
        for (var i = from; i < text.Length; i++)
            if (text[i] == c)
                return i;
        return -1;
    }
}
