using System.Text;
using ChatBlazor.Inference.Generation;
using ChatBlazor.Inference.Sampling;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// One reply being built from the engine's chunks: <see cref="Add"/> records a chunk and returns the SSE payloads
/// that stream it; <see cref="Complete"/> is the whole reply for a non-streaming request. The two endpoints differ
/// only in how these look.
/// </summary>
internal abstract class OpenAiReply(string idPrefix, string model, bool logprobs)
{
    private readonly StringBuilder _text = new();
    private readonly List<(SampledToken Token, int Offset)> _logprobs = [];

    protected string Id { get; } = $"{idPrefix}-{Guid.NewGuid():N}";
    protected long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    /// <summary>The answering model: the request's, until a chunk names the one the router chose.</summary>
    public string Model { get; set; } = model;
    protected bool LogprobsRequested => logprobs;
    protected string Text => _text.ToString();
    protected IReadOnlyList<(SampledToken Token, int Offset)> Logprobs => _logprobs;

    public FinishReason? Finish { get; private set; }
    public Usage? Usage { get; private set; }

    /// <summary>What a stream sends before the first chunk.</summary>
    public virtual IReadOnlyList<object> Start() => [];

    public IReadOnlyList<object> Add(GenerationChunk chunk)
    {
        // Token text needs the model's tokenizer, which the engine interface does not expose; a chunk's tokens all
        // start where its text does.
        var tokens = (chunk.Logprobs ?? []).Select(t => (t, _text.Length)).ToList();
        _text.Append(chunk.Text);
        _logprobs.AddRange(tokens);
        Finish = chunk.FinishReason ?? Finish;
        if (chunk.Usage is { } u)
            Usage = new Usage(u.PromptTokens, u.CompletionTokens, u.PromptTokens + u.CompletionTokens);

        var events = new List<object>();
        if (chunk.Text.Length > 0 || tokens.Count > 0)
            events.Add(Delta(chunk.Text, tokens));
        if (FinishText(chunk.FinishReason) is { } finish)
            events.Add(Finished(finish));
        return events;
    }

    public abstract object UsageChunk(Usage usage);

    public abstract object Complete();

    protected abstract object Delta(string text, IReadOnlyList<(SampledToken Token, int Offset)> tokens);

    protected abstract object Finished(string finishReason);

    /// <summary>A cancelled generation has no OpenAI finish reason: its stream just ends.</summary>
    protected static string? FinishText(FinishReason? reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        _ => null,
    };

    /// <summary>Stands in for the token's text until the engine can decode single tokens.</summary>
    /// <summary>The token's text, or <c>token_id:N</c> for a model without a tokenizer.</summary>
    internal static string TokenText(int id, string? text) => text ?? $"token_id:{id}";

    /// <summary>UTF-8 bytes of the token's text, as OpenAI reports them; null when the text is unknown.</summary>
    internal static IReadOnlyList<int>? TokenBytes(string? text) => text is null ? null : [.. System.Text.Encoding.UTF8.GetBytes(text).Select(b => (int)b)];
}

internal sealed class ChatReply(string model, bool logprobs) : OpenAiReply("chatcmpl", model, logprobs)
{
    private const string ChunkObject = "chat.completion.chunk";

    public override IReadOnlyList<object> Start() =>
        [new ChatCompletionChunk(Id, ChunkObject, Created, Model, [new ChatChunkChoice(0, new ChatDelta("assistant", ""), null, null)])];

    public override object UsageChunk(Usage usage) => new ChatCompletionChunk(Id, ChunkObject, Created, Model, [], usage);

    public override object Complete() => new ChatCompletion(Id, "chat.completion", Created, Model,
        [new ChatChoice(0, new ResponseMessage("assistant", Text), LogprobsRequested ? Render(Logprobs) : null, FinishText(Finish))],
        Usage);

    protected override object Delta(string text, IReadOnlyList<(SampledToken Token, int Offset)> tokens) =>
        new ChatCompletionChunk(Id, ChunkObject, Created, Model,
            [new ChatChunkChoice(0, new ChatDelta(Content: text), LogprobsRequested && tokens.Count > 0 ? Render(tokens) : null, null)]);

    protected override object Finished(string finishReason) =>
        new ChatCompletionChunk(Id, ChunkObject, Created, Model, [new ChatChunkChoice(0, new ChatDelta(), null, finishReason)]);

    private static ChatLogprobs Render(IReadOnlyList<(SampledToken Token, int Offset)> tokens) =>
        new([.. tokens.Select(t => new TokenLogprob(TokenText(t.Token.Id, t.Token.Text), t.Token.Logprob, TokenBytes(t.Token.Text),
            [.. (t.Token.Top ?? []).Select(top => new TopTokenLogprob(TokenText(top.Id, top.Text), top.Logprob, TokenBytes(top.Text)))]))]);
}

internal sealed class TextReply(string model, bool logprobs) : OpenAiReply("cmpl", model, logprobs)
{
    // OpenAI streams legacy completions as text_completion objects too.
    private const string ObjectName = "text_completion";

    public override object UsageChunk(Usage usage) => new TextCompletion(Id, ObjectName, Created, Model, [], usage);

    public override object Complete() => new TextCompletion(Id, ObjectName, Created, Model,
        [new TextChoice(0, Text, LogprobsRequested ? Render(Logprobs) : null, FinishText(Finish))],
        Usage);

    protected override object Delta(string text, IReadOnlyList<(SampledToken Token, int Offset)> tokens) =>
        new TextCompletion(Id, ObjectName, Created, Model,
            [new TextChoice(0, text, LogprobsRequested && tokens.Count > 0 ? Render(tokens) : null, null)]);

    protected override object Finished(string finishReason) =>
        new TextCompletion(Id, ObjectName, Created, Model, [new TextChoice(0, "", null, finishReason)]);

    private static CompletionLogprobs Render(IReadOnlyList<(SampledToken Token, int Offset)> tokens) => new(
        [.. tokens.Select(t => TokenText(t.Token.Id, t.Token.Text))],
        [.. tokens.Select(t => (double)t.Token.Logprob)],
        [.. tokens.Select(t => t.Token.Top is { } top
            ? (IReadOnlyDictionary<string, double>)top.GroupBy(x => x.Id).ToDictionary(g => TokenText(g.Key, g.First().Text), g => (double)g.First().Logprob)
            : null)],
        [.. tokens.Select(t => t.Offset)]);
}
