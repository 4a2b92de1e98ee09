using System.Runtime.CompilerServices;
using System.Threading.Channels;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Testing;

/// <summary>
/// Test double: an engine whose tokens the test releases one by one (<see cref="Release"/>; "&lt;end&gt;" finishes the
/// reply), so that what happens mid-reply happens for certain rather than by timing. A title request is answered at
/// once, so it never takes tokens a test meant for a reply.
/// </summary>
public sealed class ReleasedEngineDouble(string model) : IInferenceEngine
{
    public const string Title = "Stepped title";

    private readonly Channel<string> _tokens = Channel.CreateUnbounded<string>();

    public IReadOnlyList<ModelInfo> Models { get; } = [new(model, 4096)];

    public void Release(params string[] tokens)
    {
        foreach (var token in tokens)
            _tokens.Writer.TryWrite(token);
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(CompletionRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (request.Messages is [{ Content: var content }] && content.StartsWith(TitlePrompt.Instruction, StringComparison.Ordinal))
        {
            yield return new GenerationChunk(Title, [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(5, 2));
            yield break;
        }
        var count = 0;
        while (await _tokens.Reader.ReadAsync(cancellationToken) is var token && token != "<end>")
        {
            count++;
            yield return new GenerationChunk(token, []);
        }
        yield return new GenerationChunk("", [], FinishReason: FinishReason.Stop, Usage: new GenerationUsage(5, count));
    }
}
