using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Generation;

/// <summary>
/// Generates one sequence: prefill the prompt in one forward pass, then one token per step into a cache allocated
/// once. Everything that belongs to the request (cache, sampler, stop matcher, text decoder) lives here, apart from
/// the shared model, so many generations can run against one model.
/// </summary>
public sealed class Generator(LlamaModel model, Tokenizer? tokenizer, IReadOnlyList<int> eosTokenIds)
{
    public LlamaModel Model => model;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(
        IReadOnlyList<int> prompt, SamplingParams parameters, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        parameters.Validate(model.Config.VocabSize);
        if (prompt.Count == 0)
            throw new ArgumentException("the prompt needs at least one token", nameof(prompt));
        var window = model.Config.MaxPositionEmbeddings;
        if (prompt.Count >= window)
            throw new ArgumentException($"the prompt has {prompt.Count} tokens but the model's context window is {window}", nameof(prompt));
        if (prompt.Any(id => id < 0 || id >= model.Config.VocabSize))
            throw new ArgumentException($"token ids must be between 0 and {model.Config.VocabSize - 1}", nameof(prompt));

        var budget = Math.Min(parameters.MaxTokens, window - prompt.Count);
        using var cache = new KvCache(model.Config, prompt.Count + budget, model.Device);
        var sampler = new Sampler(parameters, prompt);
        var stops = new StopMatcher(parameters.Stop);
        var decoder = tokenizer?.NewStreamingDecoder(skipSpecialTokens: true);
        var logprobs = parameters.TopLogprobs is not null;
        var completion = 0;

        var logits = model.Forward(prompt.ToArray(), 0, cache);
        try
        {
            while (true)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    yield return Final("", [], null, FinishReason.Cancelled);
                    yield break;
                }

                var host = logits.device_type == TorchSharp.DeviceType.CPU ? logits : logits.cpu();
                var sampled = sampler.Sample(Span(host));
                if (!ReferenceEquals(host, logits))
                    host.Dispose();
                logits.Dispose();
                completion++;
                if (!parameters.IgnoreEos && eosTokenIds.Contains(sampled.Id))
                {
                    yield return Final(stops.Push(decoder?.Flush() ?? "") + stops.Flush(), [sampled.Id], sampled, FinishReason.Stop);
                    yield break;
                }
                sampler.Accept(sampled.Id);
                var text = stops.Push(decoder?.Push(sampled.Id) ?? "");
                if (stops.Stopped)
                {
                    yield return Final(text, [sampled.Id], sampled, FinishReason.Stop);
                    yield break;
                }
                if (completion == budget)
                {
                    yield return Final(text + stops.Push(decoder?.Flush() ?? "") + stops.Flush(), [sampled.Id], sampled, FinishReason.Length);
                    yield break;
                }
                yield return new GenerationChunk(text, [sampled.Id], logprobs ? [sampled] : null);

                logits = model.Forward([sampled.Id], prompt.Count + completion - 1, cache);
                // Let other work on this thread (the consumer's continuation, other requests) run between steps.
                await Task.Yield();
            }
        }
        finally
        {
            logits.Dispose();
        }

        GenerationChunk Final(string text, int[] ids, SampledToken? sampled, FinishReason reason) =>
            new(text, ids, logprobs && sampled is not null ? [sampled] : null, reason, new GenerationUsage(prompt.Count, completion));
    }

    private static unsafe ReadOnlySpan<float> Span(TorchSharp.torch.Tensor logits) =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logits.bytes);
}
