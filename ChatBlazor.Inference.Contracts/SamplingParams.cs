namespace ChatBlazor.Inference.Contracts;

/// <summary>How one request picks its tokens. Defaults sample the model's distribution unchanged.</summary>
public sealed record SamplingParams
{
    /// <summary>0 picks the most likely token every time (greedy).</summary>
    public double Temperature { get; init; } = 1.0;
    public double TopP { get; init; } = 1.0;
    /// <summary>0 keeps every token.</summary>
    public int TopK { get; init; }
    public double MinP { get; init; }
    /// <summary>Hugging Face's: positive logits of tokens already in the context are divided by it, negative ones multiplied.</summary>
    public double RepetitionPenalty { get; init; } = 1.0;
    /// <summary>OpenAI's: subtracted once per earlier occurrence in the completion.</summary>
    public double FrequencyPenalty { get; init; }
    /// <summary>OpenAI's: subtracted once if the token occurred in the completion at all.</summary>
    public double PresencePenalty { get; init; }
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }
    /// <summary>The same seed, prompt and parameters give the same completion.</summary>
    public long? Seed { get; init; }
    public int MaxTokens { get; init; } = 256;
    /// <summary>Generation ends when the text contains one of these; the stop text itself is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>How many alternatives to report with each chosen token's log-probability; null reports none.</summary>
    public int? TopLogprobs { get; init; }

    public static SamplingParams Greedy { get; } = new() { Temperature = 0 };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first out-of-range field.</summary>
    public void Validate(int vocabSize)
    {
        static void Check(bool ok, string field, string rule)
        {
            if (!ok)
                throw new ArgumentException($"{field} {rule}", field);
        }
        Check(Temperature is >= 0 and <= 100, "temperature", "must be between 0 and 100");
        Check(TopP is > 0 and <= 1, "top_p", "must be greater than 0 and at most 1");
        Check(TopK >= 0, "top_k", "must be 0 (off) or positive");
        Check(MinP is >= 0 and <= 1, "min_p", "must be between 0 and 1");
        Check(RepetitionPenalty is > 0 and <= 10, "repetition_penalty", "must be greater than 0 and at most 10");
        Check(FrequencyPenalty is >= -2 and <= 2, "frequency_penalty", "must be between -2 and 2");
        Check(PresencePenalty is >= -2 and <= 2, "presence_penalty", "must be between -2 and 2");
        Check(MaxTokens >= 1, "max_tokens", "must be at least 1");
        Check(TopLogprobs is null or (>= 0 and <= 20), "top_logprobs", "must be between 0 and 20");
        Check(Stop.Count <= 16 && Stop.All(s => s.Length > 0), "stop", "takes at most 16 non-empty strings");
        if (LogitBias is not null)
            foreach (var (id, bias) in LogitBias)
                Check(id >= 0 && id < vocabSize && bias is >= -100 and <= 100, "logit_bias", $"needs token ids below {vocabSize} and biases between -100 and 100");
    }
}
