using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Chat.Jinja;

internal enum TokenKind
{
    Text,
    VariableBegin,
    VariableEnd,
    BlockBegin,
    BlockEnd,
    Name,
    String,
    Integer,
    Float,
    Operator,
}

/// <summary>One lexed token; <see cref="Literal"/> holds the parsed value of strings and numbers.</summary>
internal sealed record Token(TokenKind Kind, string Value, int Line, int Column, object? Literal = null);

/// <summary>
/// Splits a template into text and tag tokens, applying Jinja2's whitespace rules as transformers
/// configures them: trim_blocks and lstrip_blocks on, keep_trailing_newline off, and the
/// <c>-</c>/<c>+</c> modifiers on any tag.
/// </summary>
internal sealed class JinjaLexer
{
    // Longest first, so "//" is not read as two "/".
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"];

    private readonly string _source;
    private readonly int[] _lineStarts;
    private readonly List<Token> _tokens = [];
    private int _pos;

    // Jinja2 lets lstrip_blocks strip a tag's indentation when no newline precedes it in the text
    // only if the previous tag's match ended with a newline (or at the start of the template).
    private bool _lineStarting = true;

    private JinjaLexer(string source)
    {
        _source = source;
        var starts = new List<int> { 0 };
        for (var i = 0; i < source.Length; i++)
        {
            if (source[i] == '\n')
                starts.Add(i + 1);
        }
        _lineStarts = [.. starts];
    }

    public static List<Token> Tokenize(string source)
    {
        // Jinja2 normalises newlines and, without keep_trailing_newline, drops one trailing newline.
        source = source.Replace("\r\n", "\n").Replace('\r', '\n');
        if (source.EndsWith('\n'))
            source = source[..^1];

        var lexer = new JinjaLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _source.Length)
        {
            var start = FindTagStart(_pos);
            if (start < 0)
            {
                AddText(_source[_pos..], _pos);
                return;
            }

            var kind = _source[start + 1];
            var sign = start + 2 < _source.Length ? _source[start + 2] : '\0';
            var text = _source[_pos..start];

            if (sign == '-')
            {
                text = text.TrimEnd();
            }
            else if (sign != '+' && kind != '{')
            {
                var lineStart = text.LastIndexOf('\n') + 1;
                if ((lineStart > 0 || _lineStarting) && lineStart < text.Length && string.IsNullOrWhiteSpace(text[lineStart..]))
                    text = text[..lineStart];
            }

            AddText(text, _pos);
            var bodyStart = start + 2 + (sign is '-' or '+' ? 1 : 0);
            switch (kind)
            {
                case '#':
                    LexComment(start, bodyStart);
                    break;
                case '{':
                    LexTag(start, bodyStart, TokenKind.VariableBegin, TokenKind.VariableEnd, "}}");
                    break;
                default:
                    LexTag(start, bodyStart, TokenKind.BlockBegin, TokenKind.BlockEnd, "%}");
                    break;
            }
        }
    }

    private int FindTagStart(int from)
    {
        for (var i = from; i < _source.Length - 1; i++)
        {
            if (_source[i] == '{' && _source[i + 1] is '{' or '%' or '#')
                return i;
        }
        return -1;
    }

    private void AddText(string text, int at)
    {
        if (text.Length > 0)
            Add(TokenKind.Text, text, at);
    }

    private void LexComment(int start, int bodyStart)
    {
        var end = _source.IndexOf("#}", bodyStart, StringComparison.Ordinal);
        if (end < 0)
            throw Error("The comment is never closed: '#}' is missing.", start);

        var sign = end > bodyStart ? _source[end - 1] : '\0';
        _pos = end + 2;
        FinishTag(sign, trimsNewline: true);
    }

    private void LexTag(int start, int bodyStart, TokenKind begin, TokenKind end, string closer)
    {
        Add(begin, _source.Substring(start, 2), start);
        _pos = bodyStart;
        var depth = 0;
        while (true)
        {
            SkipWhitespace();
            if (_pos >= _source.Length)
            {
                var tagName = begin == TokenKind.VariableBegin ? "'{{'" : "'{%'";
                throw Error($"The tag {tagName} is never closed: '{closer}' is missing.", start);
            }

            // Like Jinja2, a closer only counts outside brackets, so "{{ {'a': {'b': 1}} }}" works.
            if (depth == 0)
            {
                var sign = _source[_pos] is '-' or '+' ? _source[_pos] : '\0';
                var closerAt = sign == '\0' ? _pos : _pos + 1;
                if (string.CompareOrdinal(_source, closerAt, closer, 0, 2) == 0 && (sign != '+' || begin == TokenKind.BlockBegin))
                {
                    Add(end, closer, _pos);
                    _pos = closerAt + 2;
                    FinishTag(sign, trimsNewline: begin == TokenKind.BlockBegin);
                    return;
                }
            }

            var c = _source[_pos];
            if (c is '\'' or '"')
                LexString();
            else if (char.IsAsciiDigit(c))
                LexNumber();
            else if (char.IsLetter(c) || c == '_')
                LexName();
            else
                depth += LexOperator();
        }
    }

    /// <summary>Applies the right-hand whitespace rule of a tag that has just been consumed.</summary>
    private void FinishTag(char sign, bool trimsNewline)
    {
        if (sign == '-')
        {
            while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
                _pos++;
        }
        else if (sign != '+' && trimsNewline && _pos < _source.Length && _source[_pos] == '\n')
        {
            _pos++;
        }
        _lineStarting = _pos > 0 && _source[_pos - 1] == '\n';
    }

    private void SkipWhitespace()
    {
        while (_pos < _source.Length && char.IsWhiteSpace(_source[_pos]))
            _pos++;
    }

    private void LexName()
    {
        var start = _pos;
        while (_pos < _source.Length && (char.IsLetterOrDigit(_source[_pos]) || _source[_pos] == '_'))
            _pos++;
        Add(TokenKind.Name, _source[start.._pos], start);
    }

    private void LexNumber()
    {
        var start = _pos;
        SkipDigits();
        var isFloat = false;
        if (_pos + 1 < _source.Length && _source[_pos] == '.' && char.IsAsciiDigit(_source[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            SkipDigits();
        }
        if (_pos < _source.Length && _source[_pos] is 'e' or 'E')
        {
            var save = _pos;
            _pos++;
            if (_pos < _source.Length && _source[_pos] is '+' or '-')
                _pos++;
            if (_pos < _source.Length && char.IsAsciiDigit(_source[_pos]))
            {
                isFloat = true;
                SkipDigits();
            }
            else
            {
                _pos = save;
            }
        }

        var text = _source[start.._pos];
        var digits = text.Replace("_", "", StringComparison.Ordinal);
        if (isFloat)
        {
            Add(TokenKind.Float, text, start, double.Parse(digits, NumberStyles.Float, CultureInfo.InvariantCulture));
        }
        else
        {
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                throw Error($"The integer {text} is too large.", start);
            Add(TokenKind.Integer, text, start, value);
        }
    }

    private void SkipDigits()
    {
        while (_pos < _source.Length && (char.IsAsciiDigit(_source[_pos]) || (_source[_pos] == '_' && _pos + 1 < _source.Length && char.IsAsciiDigit(_source[_pos + 1]))))
            _pos++;
    }

    private void LexString()
    {
        var start = _pos;
        var quote = _source[_pos++];
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= _source.Length)
                throw Error("The string literal is never closed.", start);
            var c = _source[_pos++];
            if (c == quote)
                break;
            if (c != '\\')
            {
                value.Append(c);
                continue;
            }
            if (_pos >= _source.Length)
                throw Error("The string literal is never closed.", start);
            ReadEscape(value, start);
        }
        Add(TokenKind.String, _source[start.._pos], start, value.ToString());
    }

    /// <summary>Decodes one backslash escape the way Python's unicode-escape codec does, as Jinja2 does.</summary>
    private void ReadEscape(StringBuilder value, int literalStart)
    {
        var c = _source[_pos++];
        switch (c)
        {
            case '\n': break;
            case '\\': value.Append('\\'); break;
            case '\'': value.Append('\''); break;
            case '"': value.Append('"'); break;
            case 'n': value.Append('\n'); break;
            case 'r': value.Append('\r'); break;
            case 't': value.Append('\t'); break;
            case 'b': value.Append('\b'); break;
            case 'f': value.Append('\f'); break;
            case 'v': value.Append('\v'); break;
            case 'a': value.Append('\a'); break;
            case 'x': value.Append(ReadHex(2, literalStart)); break;
            case 'u': value.Append(ReadHex(4, literalStart)); break;
            case 'U': value.Append(ReadHex(8, literalStart)); break;
            case >= '0' and <= '7':
                var code = c - '0';
                for (var n = 0; n < 2 && _pos < _source.Length && _source[_pos] is >= '0' and <= '7'; n++)
                    code = (code * 8) + (_source[_pos++] - '0');
                value.Append((char)code);
                break;
            default:
                // Python keeps unknown escapes such as "\d" as written.
                value.Append('\\').Append(c);
                break;
        }
    }

    private string ReadHex(int length, int literalStart)
    {
        if (_pos + length > _source.Length
            || !int.TryParse(_source.AsSpan(_pos, length), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
        {
            throw Error("The string literal has a malformed \\x, \\u or \\U escape.", literalStart);
        }
        _pos += length;
        return char.ConvertFromUtf32(code);
    }

    private int LexOperator()
    {
        foreach (var op in Operators)
        {
            if (string.CompareOrdinal(_source, _pos, op, 0, op.Length) != 0)
                continue;
            Add(TokenKind.Operator, op, _pos);
            _pos += op.Length;
            return op switch
            {
                "(" or "[" or "{" => 1,
                ")" or "]" or "}" => -1,
                _ => 0,
            };
        }
        throw Error($"Unexpected character '{_source[_pos]}'.", _pos);
    }

    private void Add(TokenKind kind, string value, int offset, object? literal = null)
    {
        var (line, column) = Locate(offset);
        _tokens.Add(new Token(kind, value, line, column, literal));
    }

    private (int Line, int Column) Locate(int offset)
    {
        var index = Array.BinarySearch(_lineStarts, offset);
        var line = index >= 0 ? index : ~index - 1;
        return (line + 1, offset - _lineStarts[line] + 1);
    }

    private ChatTemplateException Error(string message, int offset)
    {
        var (line, column) = Locate(offset);
        return ChatTemplateException.At(message, line, column);
    }
}
