using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Generation;

/// <summary>
/// Turns one sequence's successive logits into its stream: sampling, end-of-sequence, stop sequences, the token
/// budget and text decoding. The single-sequence generator and the batching scheduler share it, so both end a
/// reply by the same rules.
/// </summary>
public sealed class Completion(IReadOnlyList<int> prompt, SamplingParams parameters, int budget, Tokenizer? tokenizer, IReadOnlyList<int> eosTokenIds)
{
    private readonly Sampler _sampler = new(parameters, prompt);
    private readonly StopMatcher _stops = new(parameters.Stop);
    private readonly StreamingDecoder? _decoder = tokenizer?.NewStreamingDecoder(skipSpecialTokens: true);

    public int Generated { get; private set; }

    /// <summary>Refuses, before any work, a prompt the model cannot continue; <paramref name="field"/> names it in the error.</summary>
    public static void CheckPrompt(IReadOnlyList<int> prompt, Models.ModelConfig config, string field)
    {
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt is empty", field);
        if (prompt.Count >= config.MaxPositionEmbeddings)
            throw new ArgumentException($"the prompt has {prompt.Count} tokens but the model's context window is {config.MaxPositionEmbeddings}", field);
        if (prompt.Any(id => id < 0 || id >= config.VocabSize))
            throw new ArgumentException($"token ids must be between 0 and {config.VocabSize - 1}", field);
    }

    public bool IsFinished { get; private set; }

    /// <summary>
    /// Samples the next token. Returns the chunk to stream (the final one, with reason and usage, when this token
    /// ends the reply) and the token to feed the model next, or null when the reply is over.
    /// </summary>
    public GenerationChunk Advance(ReadOnlySpan<float> logits, out int? next)
    {
        var token = _sampler.Sample(logits);
        Generated++;
        var logprobs = parameters.TopLogprobs is not null ? new[] { WithText(token) } : null;
        next = null;
        if (!parameters.IgnoreEos && eosTokenIds.Contains(token.Id))
            return End(FinishReason.Stop, [token.Id], logprobs);

        _sampler.Accept(token.Id);
        var text = _stops.Push(_decoder?.Push(token.Id) ?? "");
        if (_stops.Stopped)
            return End(FinishReason.Stop, [token.Id], logprobs, text);
        if (Generated >= budget)
            return End(FinishReason.Length, [token.Id], logprobs, text);
        next = token.Id;
        return new GenerationChunk(text, [token.Id], logprobs);
    }

    /// <summary>Reported tokens carry their text, as the OpenAI format shows them.</summary>
    private SampledToken WithText(SampledToken token) => tokenizer is null ? token : token with
    {
        Text = tokenizer.Decode([token.Id]),
        Top = token.Top?.Select(t => t with { Text = tokenizer.Decode([t.Id]) }).ToArray(),
    };

    /// <summary>The final chunk when the reply ends for a reason outside the tokens: cancelled, or out of room.</summary>
    public GenerationChunk End(FinishReason reason) => End(reason, [], null);

    private GenerationChunk End(FinishReason reason, int[] ids, SampledToken[]? logprobs, string text = "")
    {
        IsFinished = true;
        // Whatever the decoder or stop matcher held back is final now, unless the reader has gone.
        if (reason != FinishReason.Cancelled && !_stops.Stopped)
            text += _stops.Push(_decoder?.Flush() ?? "") + _stops.Flush();
        return new GenerationChunk(text, ids, logprobs, reason, new GenerationUsage(prompt.Count, Generated));
    }
}
