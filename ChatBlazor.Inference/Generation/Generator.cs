using System.Runtime.CompilerServices;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Sampling;
using ChatBlazor.Inference.Tokenization;

namespace ChatBlazor.Inference.Generation;

/// <summary>
/// Generates one sequence on the calling thread: prefill the prompt in one forward pass, then one token per step
/// into a cache allocated once. Everything that belongs to the request (cache, completion state) lives here, apart
/// from the shared model. The server batches many sequences with <see cref="Serving.InferenceEngine"/> instead.
/// </summary>
public sealed class Generator(LlamaModel model, Tokenizer? tokenizer, IReadOnlyList<int> eosTokenIds)
{
    public LlamaModel Model => model;

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(
        IReadOnlyList<int> prompt, SamplingParams parameters, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        parameters.Validate(model.Config.VocabSize);
        Completion.CheckPrompt(prompt, model.Config, nameof(prompt));

        var budget = Math.Min(parameters.MaxTokens, model.Config.MaxPositionEmbeddings - prompt.Count);
        using var cache = new KvCache(model.Config, prompt.Count + budget, model.Device);
        var completion = new Completion(prompt, parameters, budget, tokenizer, eosTokenIds);
        var logits = new float[model.Config.VocabSize];
        using (var prefill = model.Forward(prompt.ToArray(), 0, cache))
        using (var host = prefill.cpu())
            host.data<float>().CopyTo(logits);

        while (true)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                yield return completion.End(FinishReason.Cancelled);
                yield break;
            }
            yield return completion.Advance(logits, out var next);
            if (next is not { } token)
                yield break;
            model.Step(token, prompt.Count + completion.Generated - 1, cache, logits);
            // Let other work on this thread (the consumer's continuation) run between steps.
            await Task.Yield();
        }
    }
}
