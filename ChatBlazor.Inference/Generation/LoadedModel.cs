using ChatBlazor.Inference.Chat;
using ChatBlazor.Inference.Models;
using ChatBlazor.Inference.Tokenization;
using static TorchSharp.torch;

namespace ChatBlazor.Inference.Generation;

/// <summary>
/// Everything in a Hugging Face model folder that serving needs: the weights, the tokenizer and chat template when
/// present, and the generation defaults. Loaded once, shared by every request for that model.
/// </summary>
public sealed class LoadedModel
{
    private LoadedModel(string name, string directory, LlamaModel model, Tokenizer? tokenizer, ChatTemplate? template, GenerationConfig defaults, IReadOnlyList<int> eos)
    {
        Name = name;
        Directory = directory;
        Model = model;
        Tokenizer = tokenizer;
        ChatTemplate = template;
        Defaults = defaults;
        EosTokenIds = eos;
        Generator = new Generator(model, tokenizer, eos);
    }

    public string Name { get; }

    /// <summary>The same weights served under another name (an alias; tests tell engines apart by it).</summary>
    public LoadedModel Named(string name) => new(name, Directory, Model, Tokenizer, ChatTemplate, Defaults, EosTokenIds);
    public string Directory { get; }
    public LlamaModel Model { get; }
    public Tokenizer? Tokenizer { get; }
    public ChatTemplate? ChatTemplate { get; }
    public GenerationConfig Defaults { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public Generator Generator { get; }

    /// <summary>Loads a model folder, keeping the weights as <paramref name="weightType"/> says (by default as stored).</summary>
    public static LoadedModel Load(string directory, string? name = null, Device? device = null, WeightType weightType = WeightType.Stored)
    {
        if (!System.IO.Directory.Exists(directory))
            throw new DirectoryNotFoundException($"model folder {directory} does not exist");
        var model = LlamaModel.Load(directory, device, weightType);
        var tokenizerPath = Path.Combine(directory, "tokenizer.json");
        var tokenizer = File.Exists(tokenizerPath) ? Tokenizer.Load(tokenizerPath) : null;
        var configPath = Path.Combine(directory, "tokenizer_config.json");
        var template = tokenizer is null ? null
            : File.Exists(configPath) ? ChatTemplate.FromTokenizerConfig(configPath) : ChatTemplate.ChatMl();
        var defaults = GenerationConfig.Load(Path.Combine(directory, "generation_config.json"));

        // A model may end a turn with any of these; chat models often list several (e.g. <|eot_id|> and <|end_of_text|>).
        var eos = new SortedSet<int>(defaults.EosTokenIds.Concat(model.Config.EosTokenIds));
        if (template?.EosToken is { } eosText && tokenizer?.TokenToId(eosText) is { } eosId)
            eos.Add(eosId);
        return new LoadedModel(name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(directory)), directory, model, tokenizer, template, defaults, [.. eos]);
    }

    /// <summary>The chat formatted with the model's template (ChatML when it has none) and tokenized.</summary>
    public IReadOnlyList<int> EncodeChat(IReadOnlyList<ChatMessage> messages)
    {
        if (Tokenizer is null || ChatTemplate is null)
            throw new InvalidOperationException($"model {Name} has no tokenizer.json, so it accepts token ids only");
        return Tokenizer.Encode(ChatTemplate.Render(messages, addGenerationPrompt: true));
    }
}
