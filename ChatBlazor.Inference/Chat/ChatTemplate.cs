using System.Text.Json;
using ChatBlazor.Inference.Chat.Jinja;

namespace ChatBlazor.Inference.Chat;

/// <summary>
/// A model's chat template (the Jinja <c>chat_template</c> of a Hugging Face tokenizer), rendered the way
/// transformers' <c>apply_chat_template(..., tokenize=False)</c> renders it.
/// </summary>
/// <remarks>
/// The template sees <c>messages</c>, <c>add_generation_prompt</c>, <c>tools</c> and <c>documents</c> (both
/// none), the tokenizer's special tokens that are set (<c>bos_token</c>, <c>eos_token</c>, ...), and the globals
/// <c>raise_exception</c>, <c>strftime_now</c>, <c>namespace</c>, <c>range</c> and <c>dict</c>. Instances are
/// immutable and safe to share between threads.
/// </remarks>
public sealed class ChatTemplate
{
    /// <summary>The ChatML template transformers shipped as its default; used when a model has none.</summary>
    public const string ChatMlSource =
        @"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    private static readonly string[] SpecialTokenKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly JinjaTemplate _template;
    private readonly IReadOnlyDictionary<string, object?> _specialTokens;

    private ChatTemplate(string source, IReadOnlyDictionary<string, object?> specialTokens)
    {
        Source = source;
        _template = new JinjaTemplate(source);
        _specialTokens = specialTokens;
    }

    /// <summary>The Jinja source this template renders.</summary>
    public string Source { get; }

    public string? BosToken => _specialTokens.GetValueOrDefault("bos_token") as string;

    public string? EosToken => _specialTokens.GetValueOrDefault("eos_token") as string;

    /// <summary>Parses <paramref name="template"/>; a malformed one throws <see cref="ChatTemplateException"/> with its line and column.</summary>
    public static ChatTemplate FromString(string template, string? bosToken = null, string? eosToken = null)
    {
        ArgumentNullException.ThrowIfNull(template);
        var tokens = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (bosToken is not null)
            tokens["bos_token"] = bosToken;
        if (eosToken is not null)
            tokens["eos_token"] = eosToken;
        return new ChatTemplate(template, tokens);
    }

    /// <summary>ChatML: <c>&lt;|im_start|&gt;{role}\n{content}&lt;|im_end|&gt;\n</c> per message, then <c>&lt;|im_start|&gt;assistant\n</c> when asked.</summary>
    public static ChatTemplate ChatMl(string? bosToken = null, string? eosToken = null) => FromString(ChatMlSource, bosToken, eosToken);

    /// <summary>
    /// Loads the template of a Hugging Face model folder from its <c>tokenizer_config.json</c>.
    /// </summary>
    /// <remarks>
    /// Like transformers, a <c>chat_template.jinja</c> file beside the config wins over the config's
    /// <c>chat_template</c> (newer transformers saves templates there); a list of named templates yields the one
    /// named "default"; a model with no template at all gets ChatML.
    /// </remarks>
    public static ChatTemplate FromTokenizerConfig(string tokenizerConfigJsonPath)
    {
        ArgumentNullException.ThrowIfNull(tokenizerConfigJsonPath);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllText(tokenizerConfigJsonPath));
        }
        catch (JsonException e)
        {
            throw new ChatTemplateException($"{tokenizerConfigJsonPath} is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var config = document.RootElement;
            var tokens = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var key in SpecialTokenKeys)
            {
                if (config.TryGetProperty(key, out var token) && TokenContent(token) is { } content)
                    tokens[key] = content;
            }
            if (config.TryGetProperty("additional_special_tokens", out var additional) && additional.ValueKind == JsonValueKind.Array)
                tokens["additional_special_tokens"] = additional.EnumerateArray().Select(t => (object?)TokenContent(t)).ToList();

            var siblingFile = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerConfigJsonPath))!, "chat_template.jinja");
            var source = File.Exists(siblingFile) ? File.ReadAllText(siblingFile) : TemplateFromConfig(config, tokenizerConfigJsonPath);
            return new ChatTemplate(source ?? ChatMlSource, tokens);
        }
    }

    /// <summary>
    /// Renders the conversation into the prompt text the model expects.
    /// </summary>
    /// <param name="messages">The conversation so far.</param>
    /// <param name="addGenerationPrompt">Append the header that starts the assistant's reply.</param>
    /// <param name="now">The time <c>strftime_now</c> reports (Llama 3 puts today's date in the system header); the local time when null.</param>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, DateTime? now = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(_specialTokens, StringComparer.Ordinal)
        {
            ["messages"] = messages.Select(m => (object?)new JinjaDict { ["role"] = m.Role, ["content"] = m.Content }).ToList(),
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = null,
            ["documents"] = null,
        };
        return _template.Render(variables, now ?? DateTime.Now);
    }

    private static string? TemplateFromConfig(JsonElement config, string path)
    {
        if (!config.TryGetProperty("chat_template", out var template))
            return null;

        switch (template.ValueKind)
        {
            case JsonValueKind.String:
                return template.GetString();
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.Array:
                foreach (var named in template.EnumerateArray())
                {
                    if (named.ValueKind == JsonValueKind.Object
                        && named.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String && name.GetString() == "default"
                        && named.TryGetProperty("template", out var body) && body.ValueKind == JsonValueKind.String)
                    {
                        return body.GetString();
                    }
                }
                throw new ChatTemplateException($"{path} lists named chat templates but none is named \"default\".");
            default:
                throw new ChatTemplateException($"{path}: chat_template must be a string or a list of {{name, template}} objects.");
        }
    }

    /// <summary>A special token is stored either as its text or as an AddedToken object with a "content" field.</summary>
    private static string? TokenContent(JsonElement token) => token.ValueKind switch
    {
        JsonValueKind.String => token.GetString(),
        JsonValueKind.Object when token.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
        _ => null,
    };
}
