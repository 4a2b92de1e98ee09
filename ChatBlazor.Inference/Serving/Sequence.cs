using System.Diagnostics;
using System.Threading.Channels;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// One request inside the scheduler: its tokens so far, its own sampling, stop rules and text decoder, and its KV
/// cache while it runs. Only the scheduler thread touches it, except <see cref="CancelRequested"/> and the output.
/// </summary>
internal sealed class Sequence(List<int> tokens, SamplingParams parameters, int budget, Tokenizer? tokenizer, IReadOnlyList<int> eosTokenIds)
{
    /// <summary>Prompt then generated tokens. Positions 0..<see cref="Cached"/>-1 are in <see cref="Cache"/>.</summary>
    public List<int> Tokens { get; } = tokens;
    public int PromptLength { get; } = tokens.Count;
    public int Budget { get; } = budget;
    public Completion Completion { get; } = new([.. tokens], parameters, budget, tokenizer, eosTokenIds);
    public Channel<GenerationChunk> Output { get; } = Channel.CreateUnbounded<GenerationChunk>(new() { SingleReader = true, SingleWriter = true });

    public KvCache? Cache { get; set; }
    public int Cached { get; set; }
    public volatile bool CancelRequested;
    public bool Finished { get; set; }

    public long ArrivedAt { get; } = Stopwatch.GetTimestamp();
    public long AdmittedAt { get; set; }
    public long LastTokenAt { get; set; }

    /// <summary>Tokens still to run through the model before the next one can be sampled.</summary>
    public int Pending => Tokens.Count - Cached;
}
