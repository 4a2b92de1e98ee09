namespace ChatBlazor.Inference.Loadgen;

/// <summary>
/// What one request did. Times are seconds since the request was sent: <see cref="ChunkTimesS"/> holds the arrival
/// of every chunk that carried output, <see cref="LatencyS"/> the end of the stream.
/// </summary>
internal sealed record RequestResult
{
    private RequestResult(bool succeeded, string? error, int promptTokens, int outputTokens, IReadOnlyList<double> chunkTimesS, double latencyS, bool outputCountedFromChunks)
    {
        Succeeded = succeeded;
        Error = error;
        PromptTokens = promptTokens;
        OutputTokens = outputTokens;
        ChunkTimesS = chunkTimesS;
        LatencyS = latencyS;
        OutputCountedFromChunks = outputCountedFromChunks;
    }

    public bool Succeeded { get; }
    public string? Error { get; }
    public int PromptTokens { get; }
    public int OutputTokens { get; }
    public IReadOnlyList<double> ChunkTimesS { get; }
    public double LatencyS { get; }
    /// <summary>The server reported no usage, so each output chunk was counted as one token.</summary>
    public bool OutputCountedFromChunks { get; }

    /// <summary>Time to first token: the first chunk with output.</summary>
    public double? TtftS => ChunkTimesS.Count > 0 ? ChunkTimesS[0] : null;

    /// <summary>
    /// Time per output token after the first, vLLM's definition: (e2e − ttft) / (output tokens − 1). Undefined for a
    /// single token. Unlike ITL it spreads a chunk carrying several tokens over all of them.
    /// </summary>
    public double? TpotS => OutputTokens > 1 && TtftS is { } ttft ? (LatencyS - ttft) / (OutputTokens - 1) : null;

    /// <summary>Every gap between consecutive output chunks (not tokens: that is what a client sees).</summary>
    public IEnumerable<double> InterChunkGapsS => ChunkTimesS.Zip(ChunkTimesS.Skip(1), (earlier, later) => later - earlier);

    /// <param name="outputTokens">The server's count (usage), or null to count one token per output chunk.</param>
    public static RequestResult Completed(int promptTokens, int? outputTokens, IReadOnlyList<double> chunkTimesS, double latencyS) =>
        chunkTimesS.Count == 0
            // vLLM too: without a first chunk there is no TTFT, and a request that produced nothing did not work.
            ? Failed("the stream ended without any output")
            : new(true, null, promptTokens, outputTokens ?? chunkTimesS.Count, chunkTimesS, latencyS, outputTokens is null);

    public static RequestResult Failed(string error) => new(false, error, 0, 0, [], 0, false);
}
