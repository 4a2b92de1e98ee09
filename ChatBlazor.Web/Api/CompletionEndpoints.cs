using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Serving;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Api;

/// <summary>The <c>Api</c> section.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>The largest request body /v1 reads; a prompt of a 128k-token window is about half a megabyte of text.</summary>
    [Range(1024, 256L << 20)] public long MaxRequestBytes { get; set; } = 4L << 20;
}

/// <summary>
/// <c>POST /v1/chat/completions</c> and <c>/v1/completions</c>: the request read as OpenAI sends it, run through the
/// completion pipeline (the caller's plan, limits and moderation, as in the chat), answered as SSE or JSON with
/// OpenAI's x-ratelimit headers; every refusal is OpenAI's error object with its status.
/// </summary>
internal static class CompletionEndpoints
{
    public static Task ChatAsync(HttpContext http, CompletionPipeline pipeline, UserPlans plans, IOptions<ApiOptions> options, TimeProvider clock, ILoggerFactory loggers) =>
        CompleteAsync<ChatCompletionRequest>(http, pipeline, plans, options.Value, clock, loggers.CreateLogger(typeof(CompletionEndpoints)));

    public static Task TextAsync(HttpContext http, CompletionPipeline pipeline, UserPlans plans, IOptions<ApiOptions> options, TimeProvider clock, ILoggerFactory loggers) =>
        CompleteAsync<CompletionsRequest>(http, pipeline, plans, options.Value, clock, loggers.CreateLogger(typeof(CompletionEndpoints)));

    /// <summary>Any other path under /v1: OpenAI's 404, not a page.</summary>
    public static Task NotFoundAsync(HttpContext http, ILoggerFactory loggers) =>
        OpenAiErrors.WriteAsync(http, loggers.CreateLogger(typeof(CompletionEndpoints)), (StatusCodes.Status404NotFound, new ErrorBody(
            $"Unknown request URL: {http.Request.Method} {http.Request.Path}. This server offers /v1/chat/completions, /v1/completions, /v1/moderations and /v1/models.",
            "invalid_request_error", null, "unknown_url")), null);

    private static async Task CompleteAsync<T>(HttpContext http, CompletionPipeline pipeline, UserPlans plans, ApiOptions options, TimeProvider clock, ILogger log)
        where T : OpenAiSamplingRequest
    {
        if (await OpenAiCompletions.ReadAsync<T>(http, log, options.MaxRequestBytes) is not var (wire, request))
            return;
        CompletionTicket ticket;
        try
        {
            ticket = await pipeline.AdmitAsync(new CompletionCall(await CallerAsync(http, plans), UsageSource.Api, request), http.RequestAborted);
        }
        catch (CompletionRefusedException refused)
        {
            WriteLimitHeaders(http, refused.Limits, clock);
            if (refused.RetryAt is { } retryAt)
                http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((retryAt - clock.GetUtcNow()).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            else if (refused.Reason == RefusalReason.TooManyRunning)
                http.Response.Headers.RetryAfter = "1";
            await OpenAiErrors.WriteAsync(http, log, ErrorOf(refused), null);
            return;
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        WriteLimitHeaders(http, ticket.Limits, clock);
        var response = OpenAiResponse.For(http, wire, request, log);
        // The answer ends (usage chunk, [DONE]) before the usage row is written: the client never waits on the ledger.
        await pipeline.RunAsync(ticket, response.WriteAsync, http.RequestAborted, beforeSettle: async ended =>
        {
            await response.EndAsync(ended.Error);
            return true;
        });
    }

    /// <summary>
    /// The caller the authentication handlers vouched for: the user (never a claim the token chose), the key, and the
    /// user's plan with any admin override, read now so a change applies to this very request.
    /// </summary>
    private static async Task<CompletionCaller> CallerAsync(HttpContext http, UserPlans plans)
    {
        var userId = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The /v1 group requires an authenticated caller.");
        return new CompletionCaller(userId, Guid.TryParse(http.User.FindFirstValue(ApiClaims.KeyId), out var key) ? key : null,
            await plans.ForUserAsync(userId, http.RequestAborted));
    }

    private static (int Status, ErrorBody Body) ErrorOf(CompletionRefusedException e) => e.Reason switch
    {
        RefusalReason.ModelNotFound => (StatusCodes.Status404NotFound, new ErrorBody(e.Message, "invalid_request_error", "model", "model_not_found")),
        RefusalReason.ModelNotAllowed => (StatusCodes.Status403Forbidden,
            new ErrorBody(e.Message + " GET /v1/models lists the models you can use.", "invalid_request_error", "model", "model_not_allowed")),
        RefusalReason.PromptTooLong => (StatusCodes.Status400BadRequest, new ErrorBody(e.Message, "invalid_request_error", e.Param, "context_length_exceeded")),
        RefusalReason.TooLarge => (StatusCodes.Status413PayloadTooLarge, new ErrorBody(e.Message, "invalid_request_error", e.Param, "request_too_large")),
        // OpenAI's error types for 429s name what ran out.
        RefusalReason.RateLimited => (StatusCodes.Status429TooManyRequests,
            new ErrorBody(e.Message, e.Limits?.Refused == LimitKind.RequestsPerMinute ? "requests" : "tokens", null, "rate_limit_exceeded")),
        RefusalReason.TooManyRunning => (StatusCodes.Status429TooManyRequests, new ErrorBody(e.Message, "requests", null, "concurrent_requests_exceeded")),
        RefusalReason.Moderated => (StatusCodes.Status400BadRequest, new ErrorBody(e.Message, "invalid_request_error", e.Param, "content_policy_violation")),
        RefusalReason.TemplateFailed => (StatusCodes.Status500InternalServerError, new ErrorBody(e.Message, "server_error", null, "chat_template_error")),
        _ => (StatusCodes.Status400BadRequest, new ErrorBody(e.Message, "invalid_request_error", e.Param, null)),
    };

    internal static void WriteLimitHeaders(HttpContext http, LimitDecision? limits, TimeProvider clock)
    {
        if (limits is null)
            return;
        var headers = http.Response.Headers;
        var now = clock.GetUtcNow();
        headers["x-ratelimit-limit-requests"] = limits.Requests.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-requests"] = limits.Requests.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-requests"] = Duration(limits.Requests.Reset - now);
        headers["x-ratelimit-limit-tokens"] = limits.Tokens.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-tokens"] = limits.Tokens.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-tokens"] = Duration(limits.Tokens.Reset - now);
    }

    /// <summary>OpenAI's reset format: "1s", "6m0s", "2h3m0s".</summary>
    internal static string Duration(TimeSpan wait)
    {
        var s = Math.Max(0, (int)Math.Ceiling(wait.TotalSeconds));
        return s < 60 ? $"{s}s" : s < 3600 ? $"{s / 60}m{s % 60}s" : $"{s / 3600}h{s / 60 % 60}m{s % 60}s";
    }
}
