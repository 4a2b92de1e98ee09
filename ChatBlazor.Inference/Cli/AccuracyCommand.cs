using System.Text.Json;
using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Models;
using TorchSharp;

namespace ChatBlazor.Inference.Cli;

/// <summary>What a weight type costs in accuracy: perplexity on a model's eval answers, and agreement with the weights as stored.</summary>
internal static class AccuracyCommand
{
    /// <summary>
    /// <c>perplexity --model DIR [--dtype T] [--eval FILE] [--by-step]</c>: exp of the mean negative log-likelihood of
    /// each reference reply in FILE (JSON lines with Question and Reference, by default DIR/eval-answers.jsonl, written
    /// by eval) given its question in the model's chat template: the reply's tokens and the end of its turn. The whole
    /// text goes through one prefill, or with --by-step the reply is fed token by token through the decode kernels
    /// (where 8-bit weights also quantize the activations).
    /// </summary>
    public static int Perplexity(Args args)
    {
        var dir = args.Required("model");
        var evalPath = args.String("eval") ?? Path.Combine(dir, "eval-answers.jsonl");
        if (!File.Exists(evalPath))
            throw new UsageException($"--eval: no file '{evalPath}'");
        var model = LoadedModel.Load(dir, weightType: DtypeOption.Read(args));
        if (model.Tokenizer is null || model.ChatTemplate is null)
            throw new UsageException($"model {model.Name} has no tokenizer.json, so it cannot read text");
        var byStep = args.Flag("by-step");
        var (nll, tokens, replies) = (0.0, 0L, 0);
        var logits = new float[model.Model.Config.VocabSize];
        foreach (var line in File.ReadLines(evalPath).Where(l => l.Length > 0))
        {
            using var json = JsonDocument.Parse(line);
            var question = json.RootElement.GetProperty("Question").GetString()!;
            var reference = json.RootElement.GetProperty("Reference").GetString()!;
            var prompt = model.EncodeChat([new ChatMessage("user", question)]);
            var whole = model.Tokenizer.Encode(model.ChatTemplate.Render([new ChatMessage("user", question), new ChatMessage("assistant", reference)], addGenerationPrompt: false));
            if (!whole.Take(prompt.Count).SequenceEqual(prompt))
                throw new InvalidOperationException($"the chat template does not render the question the same way with and without a reply: {question}");
            using var cache = new KvCache(model.Model.Config, whole.Count, model.Model.Device);
            if (byStep)
            {
                using (var last = model.Model.Forward(whole.Take(prompt.Count).ToArray(), 0, cache))
                    last.data<float>().CopyTo(logits);
                for (var t = prompt.Count; t < whole.Count; t++)
                {
                    nll -= LogSoftmaxAt(logits, whole[t]);
                    if (t < whole.Count - 1)
                        model.Model.Step(whole[t], t, cache, logits);
                }
            }
            else
            {
                using var scope = torch.NewDisposeScope();
                var all = model.Model.Forward(whole.ToArray(), 0, cache, lastOnly: false); // (T, V)
                var logProbabilities = torch.nn.functional.log_softmax(all, 1).data<float>().ToArray();
                // Position t predicts token t + 1: score every token after the prompt.
                for (var t = prompt.Count - 1; t < whole.Count - 1; t++)
                    nll -= logProbabilities[(long)t * logits.Length + whole[t + 1]];
            }
            tokens += whole.Count - prompt.Count;
            replies++;
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["dtype"] = model.Model.WeightType.Name(),
            ["by_step"] = byStep,
            ["replies"] = replies,
            ["tokens"] = tokens,
            ["mean_nll"] = Math.Round(nll / tokens, 5),
            ["perplexity"] = Math.Round(Math.Exp(nll / tokens), 4),
        }));
        return 0;
    }

    /// <summary>log softmax(logits)[token], in double: the largest logit is subtracted first so nothing overflows.</summary>
    private static double LogSoftmaxAt(float[] logits, int token)
    {
        var max = System.Numerics.Tensors.TensorPrimitives.Max(logits);
        var sum = 0.0;
        foreach (var l in logits)
            sum += Math.Exp(l - max);
        return logits[token] - max - Math.Log(sum);
    }

    /// <summary>
    /// <c>agreement --model DIR --dtype T [--prompt-tokens 32] [--new-tokens 64] [--seed S]</c>: a greedy run of the
    /// model as stored from a random prompt, and the same tokens through the model as T: on how many steps T would
    /// pick the same token, and the largest logit difference.
    /// </summary>
    public static int Agreement(Args args)
    {
        var dir = args.Required("model");
        var type = DtypeOption.Read(args);
        var (promptTokens, newTokens) = (args.Int("prompt-tokens") ?? 32, args.Int("new-tokens") ?? 64);
        if (promptTokens < 1 || newTokens < 1)
            throw new UsageException("--prompt-tokens and --new-tokens must be positive");
        var reference = LlamaModel.Load(dir);
        var converted = LlamaModel.Load(dir, weightType: type);
        var vocab = reference.Config.VocabSize;
        var random = new Random(args.Int("seed") ?? 1234);
        var prompt = Enumerable.Range(0, promptTokens).Select(_ => random.Next(vocab)).ToArray();
        using var referenceCache = new KvCache(reference.Config, promptTokens + newTokens, reference.Device);
        using var convertedCache = new KvCache(converted.Config, promptTokens + newTokens, converted.Device);
        var (want, got) = (new float[vocab], new float[vocab]);
        using (var r = reference.Forward(prompt, 0, referenceCache)) r.data<float>().CopyTo(want);
        using (var g = converted.Forward(prompt, 0, convertedCache)) g.data<float>().CopyTo(got);
        var (agree, worst, largest) = (0, 0f, 0f);
        for (var step = 0; step < newTokens; step++)
        {
            var next = System.Numerics.Tensors.TensorPrimitives.IndexOfMax(want);
            agree += next == System.Numerics.Tensors.TensorPrimitives.IndexOfMax(got) ? 1 : 0;
            worst = Math.Max(worst, want.Zip(got, (a, b) => Math.Abs(a - b)).Max());
            largest = Math.Max(largest, System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(want));
            if (step == newTokens - 1)
                break;
            reference.Step(next, promptTokens + step, referenceCache, want);
            converted.Step(next, promptTokens + step, convertedCache, got);
        }
        Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["dtype"] = type.Name(),
            ["steps"] = newTokens,
            ["top1_agreement"] = Math.Round((double)agree / newTokens, 4),
            ["max_logit_difference"] = worst,
            ["largest_logit"] = largest,
        }));
        return 0;
    }
}
