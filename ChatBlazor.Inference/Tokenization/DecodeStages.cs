using System.Text;
using System.Text.RegularExpressions;
using System.Text.Unicode;

namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// One step of a tokenizer.json "decoder", written as a stream: tokens go in one at a time, text comes out as
/// soon as no later token can change it. Decode runs the same stages over all ids at once, so streamed text
/// and decoded text agree by construction; each stage's job is only to hold back exactly what Hugging Face's
/// batch decoder could still change.
/// </summary>
internal abstract class DecodeStage(DecodeStage? next)
{
    protected DecodeStage Next => next!;

    public abstract void Push(string item);

    public virtual void Flush() => Next.Flush();
}

/// <summary>
/// A tokenizer's decoder chain. Stages keep state (held bytes, "first token" flags), so every decode and every
/// streaming decoder builds its own chain from these factories.
/// </summary>
internal sealed class DecoderPlan(IReadOnlyList<Func<DecodeStage, DecodeStage>> stages)
{
    public DecodeStage Build(DecodeStage sink)
    {
        var head = sink;
        for (var i = stages.Count - 1; i >= 0; i--)
            head = stages[i](head);
        return head;
    }
}

internal sealed class OutputSink() : DecodeStage(null)
{
    private readonly StringBuilder _text = new();

    public override void Push(string item) => _text.Append(item);

    public override void Flush()
    {
    }

    public string Take()
    {
        var text = _text.ToString();
        _text.Clear();
        return text;
    }
}

/// <summary>What Hugging Face does when a file has no decoder at all: tokens joined by single spaces.</summary>
internal sealed class JoinWithSpaceStage(DecodeStage next) : DecodeStage(next)
{
    private bool _first = true;

    public override void Push(string item)
    {
        if (!_first)
            Next.Push(" ");
        _first = false;
        Next.Push(item);
    }
}

internal sealed class ReplaceStage(string? literal, Regex? regex, string content, DecodeStage next) : DecodeStage(next)
{
    public override void Push(string item)
    {
        if (literal is not null)
            Next.Push(literal.Length == 0 ? item : item.Replace(literal, content, StringComparison.Ordinal));
        else
            Next.Push(regex!.Replace(item, _ => content));
    }
}

/// <summary>
/// Turns runs of &lt;0xNN&gt; tokens into text. Hugging Face decodes a whole run at once and, if it is not valid
/// UTF-8, writes one U+FFFD per byte token of the run. A later byte token can still spoil a run that is valid so
/// far (a stray continuation byte), so a run is released only when a non-byte token or the end arrives.
/// </summary>
internal sealed class ByteFallbackStage(DecodeStage next) : DecodeStage(next)
{
    private readonly List<byte> _run = [];

    public override void Push(string item)
    {
        if (TryParseByteToken(item, out var value))
        {
            _run.Add(value);
            return;
        }
        ReleaseRun();
        Next.Push(item);
    }

    public override void Flush()
    {
        ReleaseRun();
        Next.Flush();
    }

    internal static bool TryParseByteToken(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out value);
    }

    private void ReleaseRun()
    {
        if (_run.Count == 0)
            return;
        var bytes = _run.ToArray();
        _run.Clear();
        if (Utf8.IsValid(bytes))
        {
            Next.Push(Encoding.UTF8.GetString(bytes));
            return;
        }
        foreach (var _ in bytes)
            Next.Push("\uFFFD");
    }
}

/// <summary>Metaspace as a decoder: ▁ becomes a space, except that the very first token loses its ▁s.</summary>
internal sealed class MetaspaceDecodeStage(char replacement, bool stripFirstToken, DecodeStage next) : DecodeStage(next)
{
    private bool _first = true;

    public override void Push(string item)
    {
        var dropReplacement = _first && stripFirstToken;
        _first = false;
        Next.Push(dropReplacement
            ? item.Replace(replacement.ToString(), "", StringComparison.Ordinal)
            : item.Replace(replacement, ' '));
    }
}

/// <summary>Strip before anything fused the tokens: applies to each token on its own.</summary>
internal sealed class StripTokenStage(char content, int start, int stop, DecodeStage next) : DecodeStage(next)
{
    public override void Push(string item)
    {
        var startCut = 0;
        while (startCut < start && startCut < item.Length && item[startCut] == content)
            startCut++;
        var stopCut = item.Length;
        for (var i = 0; i < Math.Min(stop, item.Length - startCut) && item[stopCut - 1] == content; i++)
            stopCut--;
        Next.Push(item[startCut..stopCut]);
    }
}

/// <summary>
/// Strip after Fuse or ByteLevel, where the whole text is one token: drops up to <c>start</c> leading
/// <c>content</c> characters of the whole text (Llama-2's leading space) and up to <c>stop</c> trailing ones,
/// holding back trailing candidates until it is known whether more text follows them.
/// </summary>
internal sealed class StripStreamStage(char content, int start, int stop, DecodeStage next) : DecodeStage(next)
{
    private int _leadingLeft = start;
    private bool _pastLeading = start == 0;
    private int _held;

    public override void Push(string item)
    {
        var output = new StringBuilder(item.Length);
        foreach (var c in item)
        {
            if (!_pastLeading)
            {
                if (c == content && _leadingLeft > 0)
                {
                    _pastLeading = --_leadingLeft == 0;
                    continue;
                }
                _pastLeading = true;
            }
            if (stop > 0 && c == content)
            {
                if (_held < stop)
                    _held++;
                else
                    output.Append(content);
                continue;
            }
            output.Append(content, _held);
            _held = 0;
            output.Append(c);
        }
        if (output.Length > 0)
            Next.Push(output.ToString());
    }

    // Whatever is still held is the trailing run that the batch decoder strips.
    public override void Flush() => Next.Flush();
}

/// <summary>
/// ByteLevel as a decoder: every token becomes bytes again (tokens spelled outside the byte alphabet, such as
/// some added tokens, contribute their UTF-8), and all bytes together are read as UTF-8 with U+FFFD for invalid
/// sequences. .NET's stateful UTF-8 decoder holds an incomplete character back between calls and replaces
/// invalid sequences the same way a single pass over all the bytes does, which is what makes streaming exact.
/// </summary>
internal sealed class ByteLevelDecodeStage(DecodeStage next) : DecodeStage(next)
{
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();

    public override void Push(string item)
    {
        var bytes = new byte[item.Length];
        var allMapped = true;
        for (var i = 0; i < item.Length && allMapped; i++)
            allMapped = ByteLevelAlphabet.TryGetByte(item[i], out bytes[i]);
        if (!allMapped)
            bytes = Encoding.UTF8.GetBytes(item);
        Emit(bytes, flush: false);
    }

    public override void Flush()
    {
        Emit([], flush: true);
        Next.Flush();
    }

    private void Emit(byte[] bytes, bool flush)
    {
        // At most one char per byte, plus a U+FFFD for each of up to three bytes held from earlier calls.
        var chars = new char[bytes.Length + 4];
        var count = _utf8.GetChars(bytes, 0, bytes.Length, chars, 0, flush);
        if (count > 0)
            Next.Push(new string(chars, 0, count));
    }
}
