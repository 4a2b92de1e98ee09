namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// Turns generated ids into text as they arrive. Each <see cref="Push"/> returns the text that no later token can
/// change any more: never half of a UTF-8 character (an emoji spread over byte tokens appears once complete),
/// and the SentencePiece leading-space rule applied exactly as in a full decode. The concatenation of every
/// Push result and <see cref="Flush"/> equals <see cref="Tokenizer.Decode"/> of the same ids. One instance
/// serves one stream and is not thread-safe.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly Tokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly OutputSink _sink = new();
    private readonly DecodeStage _chain;
    private bool _flushed;

    internal StreamingDecoder(Tokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
        _chain = tokenizer.BuildDecoderChain(_sink);
    }

    /// <summary>
    /// Adds one id and returns the text it completed ("" while a character or a run of byte tokens is still
    /// open). Ids that name no token, and special tokens when skipping them, add nothing.
    /// </summary>
    public string Push(int id)
    {
        if (_flushed)
            throw new InvalidOperationException("This StreamingDecoder was flushed; start a new one for a new stream.");
        if (_tokenizer.TokenForDecoding(id, _skipSpecialTokens) is { } token)
            _chain.Push(token);
        return _sink.Take();
    }

    /// <summary>
    /// Ends the stream and returns what was held back: an incomplete character becomes U+FFFD, as in a full
    /// decode. Later calls return "".
    /// </summary>
    public string Flush()
    {
        if (_flushed)
            return "";
        _flushed = true;
        _chain.Flush();
        return _sink.Take();
    }
}
