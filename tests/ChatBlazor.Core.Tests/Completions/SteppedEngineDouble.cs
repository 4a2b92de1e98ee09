using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Tests.Completions;

/// <summary>
/// Test double: an engine whose chunks the test hands out one at a time, so every step of a completion can be
/// observed. <see cref="Asked"/> yields each time a completion asks for its next chunk (after handling the previous
/// one). A token is a character here: prompts count their characters plus 2 a message, as a template's framing would.
/// The engine only estimates (no token ids), so requests carry their messages and tests can read them.
/// </summary>
public sealed class SteppedEngineDouble(int contextWindow = 64) : IInferenceEngine
{
    private readonly Channel<Func<GenerationChunk>> _chunks = Channel.CreateUnbounded<Func<GenerationChunk>>();
    private readonly Channel<bool> _asked = Channel.CreateUnbounded<bool>();
    private int _tokenizations;

    public IReadOnlyList<ModelInfo> Models { get; } = [new("double", contextWindow, Temperature: 0.5), new("other", contextWindow)];

    /// <summary>Every request, in order.</summary>
    public List<CompletionRequest> Requests { get; } = [];
    public CompletionRequest? Request => Requests.FirstOrDefault();
    public ChannelReader<bool> Asked => _asked.Reader;
    /// <summary>How many prompts were tokenized (chats rendered or texts counted).</summary>
    public int Tokenizations => Volatile.Read(ref _tokenizations);

    public static int Count(IReadOnlyList<ChatMessage> messages) => messages.Sum(m => m.Content.Length + 2);

    /// <summary>The next chunk; a final one (with <paramref name="finish"/>) counts the prompt and <paramref name="completionTokens"/>.</summary>
    public void Send(string text, FinishReason? finish = null, int completionTokens = 3) =>
        _chunks.Writer.TryWrite(() => new GenerationChunk(text, [], FinishReason: finish, Usage: finish is null ? null : new GenerationUsage(PromptOf(Requests[^1]), completionTokens)));

    /// <summary>The next chunk, as given (token ids, log-probabilities).</summary>
    public void SendChunk(GenerationChunk chunk) => _chunks.Writer.TryWrite(() => chunk);

    /// <summary>The next chunk fails, as a remote host dying mid-stream does.</summary>
    public void Fail(Exception error) => _chunks.Writer.TryWrite(() => throw error);

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        lock (Requests)
            Requests.Add(request);
        var generated = 0;
        while (true)
        {
            _asked.Writer.TryWrite(true);
            Func<GenerationChunk> next;
            try
            {
                next = await _chunks.Reader.ReadAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break; // as the in-process engine does: a cancelled sequence still reports what it used
            }
            var chunk = next();
            generated += chunk.Text.Length;
            yield return chunk;
            if (chunk.FinishReason is not null)
                yield break;
        }
        yield return new GenerationChunk("", [], FinishReason: FinishReason.Cancelled, Usage: new GenerationUsage(PromptOf(request), generated));
    }

    public TokenizedPrompt TokenizeChat(string model, IReadOnlyList<ChatMessage> messages)
    {
        Interlocked.Increment(ref _tokenizations);
        return new(Count(messages), null);
    }

    public TokenizedPrompt Tokenize(string model, string text) => new(text.Length, null);

    private static int PromptOf(CompletionRequest request) =>
        (request.Messages is { } messages ? Count(messages) : request.Prompt?.Length ?? request.PromptTokens?.Count ?? 0) + (request.AssistantPrefix?.Length ?? 0);
}
