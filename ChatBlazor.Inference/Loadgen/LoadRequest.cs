namespace ChatBlazor.Inference.Loadgen;

/// <summary>
/// One generated request: token ids for the completions endpoint, or text for chat. <see cref="PromptLength"/> is
/// the number of ids, or for text the number of words (about one token each), used when the server reports no usage.
/// </summary>
internal sealed record LoadRequest(int Index, IReadOnlyList<int>? PromptTokens, string? PromptText, int PromptLength, int MaxTokens);

/// <summary>Where requests go: a server over HTTP, or an engine in this process.</summary>
internal interface ILoadTarget
{
    /// <summary>Sends one request and streams it to the end. Failures come back as results; only cancellation throws.</summary>
    Task<RequestResult> SendAsync(LoadRequest request, CancellationToken cancellationToken);
}
