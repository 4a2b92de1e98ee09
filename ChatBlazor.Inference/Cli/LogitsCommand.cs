using System.Text.Json;
using ChatBlazor.Inference.Models;

namespace ChatBlazor.Inference.Cli;

/// <summary>The top logits at the last position of a token sequence, as JSON.</summary>
internal static class LogitsCommand
{
    public static int Run(Args args)
    {
        var tokens = args.Tokens("tokens") ?? throw new UsageException("--tokens is required");
        var top = args.Int("top") ?? 5;
        if (tokens.Length == 0 || top < 1)
            throw new UsageException("--tokens needs at least one id and --top must be positive");
        var model = LlamaModel.Load(args.Required("model"));
        if (tokens.Any(t => t < 0 || t >= model.Config.VocabSize))
            throw new ArgumentException($"token ids must be between 0 and {model.Config.VocabSize - 1}");

        using var cache = new KvCache(model.Config, tokens.Length, model.Device);
        using var logits = model.Forward(tokens, 0, cache);
        var values = logits[0].data<float>().ToArray();
        var best = values.Select((logit, id) => (logit, id)).OrderByDescending(x => x.logit).ThenBy(x => x.id).Take(top);
        Console.WriteLine(JsonSerializer.Serialize(new { top = best.Select(x => new { x.id, x.logit }) }));
        return 0;
    }
}
