using System.Security.Claims;
using System.Text.Json;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Api;

/// <summary>One input's verdict as OpenAI answers it, with ours (<see cref="Chatblazor"/>) beside.</summary>
internal sealed record ModerationResultBody(bool Flagged, Dictionary<string, bool> Categories, Dictionary<string, float> CategoryScores, ModerationDetailBody Chatblazor);

/// <summary>Our own field: what the policy would do, and the rules that fired (where in the input, for span rules).</summary>
internal sealed record ModerationDetailBody(string Action, IReadOnlyList<ModerationRuleHitBody> Rules);

internal sealed record ModerationRuleHitBody(string Id, string Category, double Score, int Start, int Length);

internal sealed record ModerationResponseBody(string Id, string Model, IReadOnlyList<ModerationResultBody> Results);

/// <summary>
/// <c>POST /v1/moderations</c>, OpenAI-compatible: <c>input</c> is a string or an array of strings, and each gets
/// <c>flagged</c>, <c>categories</c> and <c>category_scores</c> over every category of <see cref="ModerationCategories.All"/>.
/// It is the same decision chat and <c>/v1/chat/completions</c> get; it records nothing (a query about a text is not
/// a message). Each call counts as one request against the caller's requests-per-minute limit, and no tokens.
/// </summary>
internal static class ModerationEndpoints
{
    public const string Model = "chatblazor-moderation";
    public const int MaxInputs = 32;
    public const int MaxInputChars = 32_000;

    public static async Task ModerateAsync(
        HttpContext http, ModerationService moderation, RateLimiter limiter, UserPlans plans, IOptions<ApiOptions> options, TimeProvider clock, ILoggerFactory loggers)
    {
        var log = loggers.CreateLogger(typeof(ModerationEndpoints));
        if (http.Request.ContentLength > options.Value.MaxRequestBytes)
        {
            await OpenAiErrors.WriteAsync(http, log, (StatusCodes.Status413PayloadTooLarge, new ErrorBody(
                $"The request body is larger than {options.Value.MaxRequestBytes} bytes.", "invalid_request_error", null, "request_too_large")), null);
            return;
        }
        IReadOnlyList<string> inputs;
        try
        {
            using var body = await JsonDocument.ParseAsync(http.Request.Body, cancellationToken: http.RequestAborted);
            inputs = Inputs(body.RootElement);
        }
        catch (JsonException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.BadJson(e), null);
            return;
        }
        catch (ArgumentException e)
        {
            await OpenAiErrors.WriteAsync(http, log, OpenAiErrors.For(e), null);
            return;
        }

        var userId = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The /v1 group requires an authenticated caller.");
        var subject = new LimitSubject(userId, Guid.TryParse(http.User.FindFirstValue(ApiClaims.KeyId), out var key) ? key : null,
            await plans.ForUserAsync(userId, http.RequestAborted));
        var limits = await limiter.ReserveAsync(subject, 0, http.RequestAborted);
        CompletionEndpoints.WriteLimitHeaders(http, limits, clock);
        if (!limits.Admitted)
        {
            if (limits.RetryAt is { } retryAt)
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((retryAt - clock.GetUtcNow()).TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await OpenAiErrors.WriteAsync(http, log, (StatusCodes.Status429TooManyRequests, new ErrorBody(limits.Refusal ?? "Rate limit reached.",
                limits.Refused == LimitKind.RequestsPerMinute ? "requests" : "tokens", null, "rate_limit_exceeded")), null);
            return;
        }

        var results = inputs.Select(text => Body(moderation.Check(text))).ToList();
        await http.Response.WriteAsJsonAsync(new ModerationResponseBody($"modr-{Guid.NewGuid():N}", Model, results), OpenAiJson.Options, http.RequestAborted);
    }

    /// <summary>The texts of <c>input</c>; any other shape is refused with a message that names the field.</summary>
    internal static IReadOnlyList<string> Inputs(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ArgumentException("The request body must be a JSON object with an 'input' field.", "input");
        if (!root.TryGetProperty("input", out var input) || input.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            throw new ArgumentException("'input' is required: a string or an array of strings.", "input");
        if (root.TryGetProperty("model", out var model) && model.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            throw new ArgumentException("'model' must be a string.", "model");
        List<string> texts;
        if (input.ValueKind == JsonValueKind.String)
            texts = [input.GetString()!];
        else if (input.ValueKind == JsonValueKind.Array)
        {
            var count = input.GetArrayLength();
            if (count == 0)
                throw new ArgumentException("'input' is an empty array; give at least one string.", "input");
            if (count > MaxInputs)
                throw new ArgumentException($"'input' has {count} items; at most {MaxInputs} are allowed.", "input");
            texts = [];
            foreach (var item in input.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.String)
                    throw new ArgumentException($"'input[{texts.Count}]' must be a string (this server moderates text only).", "input");
                texts.Add(item.GetString()!);
            }
        }
        else
            throw new ArgumentException("'input' must be a string or an array of strings.", "input");
        for (var i = 0; i < texts.Count; i++)
        {
            if (texts[i].Length > MaxInputChars)
                throw new ArgumentException(
                    $"'{(input.ValueKind == JsonValueKind.String ? "input" : $"input[{i}]")}' has {texts[i].Length} characters; at most {MaxInputChars} are allowed.", "input");
        }
        return texts;
    }

    private static ModerationResultBody Body(ModerationResult result) => new(
        result.Flagged,
        ModerationCategories.All.ToDictionary(c => c, result.FlaggedCategories.Contains),
        ModerationCategories.All.ToDictionary(c => c, c => (float)result.Scores.GetValueOrDefault(c)),
        new ModerationDetailBody(result.Action.ToString().ToLowerInvariant(), [.. result.Findings
            .Where(f => f.Rule != ModerationService.ClassifierRule)
            .Select(f => new ModerationRuleHitBody(f.Rule, f.Category, f.Score, f.Start, f.Length))]));
}
