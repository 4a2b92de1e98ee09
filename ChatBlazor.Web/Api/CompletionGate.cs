using System.Globalization;
using System.Security.Claims;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Serving;

namespace ChatBlazor.Web.Api;

/// <summary>
/// Limits and accounting around each /v1 completion: the caller's plan must include the model; the request reserves
/// its prompt plus its reply budget under the user's and the key's limits (429 with Retry-After and the limit named
/// when over); the response carries OpenAI's x-ratelimit headers; at the end the reservation settles to the real
/// count and a usage row is written.
/// </summary>
internal sealed class CompletionGate(RateLimiter limiter, PlanCatalog plans, UsageLedger ledger, IInferenceEngine engine, TimeProvider clock) : ICompletionGate
{
    public async Task<CompletionAdmission> AdmitAsync(HttpContext http, CompletionRequest request, CancellationToken cancellationToken)
    {
        var userId = http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("The /v1 group requires an authenticated caller.");
        Guid? keyId = Guid.TryParse(http.User.FindFirstValue(ApiClaims.KeyId), out var k) ? k : null;
        var plan = plans.For(http.User.FindFirstValue(ApiClaims.Plan));
        if (!plan.Allows(request.Model))
            return CompletionAdmission.Refuse(StatusCodes.Status403Forbidden,
                new ErrorBody($"Your {plan.Name} plan does not include the model '{request.Model}'. GET /v1/models lists the models you can use.", "invalid_request_error", "model", "model_not_allowed"));
        if (engine.Models.All(m => m.Name != request.Model))
            return CompletionAdmission.Admit(new Pass(this, userId, keyId, request.Model, null)); // the engine answers 404

        var promptTokens = request.Messages is { } messages ? engine.CountChatTokens(request.Model, messages)
            : request.PromptTokens?.Count ?? (request.Prompt?.Length ?? 0) / 3 + 1;
        var tokens = (long)promptTokens + request.Sampling.MaxTokens;
        if (tokens > plan.TokensPerMinute)
            return CompletionAdmission.Refuse(StatusCodes.Status413RequestEntityTooLarge, new ErrorBody(
                $"This request may use {tokens:N0} tokens ({promptTokens:N0} in the prompt + max_tokens {request.Sampling.MaxTokens:N0}), more than your {plan.Name} plan's {plan.TokensPerMinute:N0} tokens per minute. Lower max_tokens or shorten the prompt.",
                "invalid_request_error", "max_tokens", "request_too_large"));

        var decision = await limiter.ReserveAsync(new LimitSubject(userId, keyId, plan), tokens, cancellationToken);
        var headers = http.Response.Headers;
        var now = clock.GetUtcNow();
        headers["x-ratelimit-limit-requests"] = decision.Requests.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-requests"] = decision.Requests.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-requests"] = Duration(decision.Requests.Reset - now);
        headers["x-ratelimit-limit-tokens"] = decision.Tokens.Limit.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-remaining-tokens"] = decision.Tokens.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["x-ratelimit-reset-tokens"] = Duration(decision.Tokens.Reset - now);
        if (!decision.Admitted)
        {
            headers.RetryAfter = Math.Max(1, (int)Math.Ceiling((decision.RetryAt!.Value - now).TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            var type = decision.Refused == LimitKind.RequestsPerMinute ? "requests" : "tokens"; // OpenAI's error types for 429s
            return CompletionAdmission.Refuse(StatusCodes.Status429TooManyRequests, new ErrorBody(decision.Refusal!, type, null, "rate_limit_exceeded"));
        }
        return CompletionAdmission.Admit(new Pass(this, userId, keyId, request.Model, decision.Reservation));
    }

    private RateLimiter Limiter => limiter;
    private UsageLedger Ledger => ledger;

    /// <summary>OpenAI's reset format: "1s", "6m0s", "2h3m0s".</summary>
    internal static string Duration(TimeSpan wait)
    {
        var s = Math.Max(0, (int)Math.Ceiling(wait.TotalSeconds));
        return s < 60 ? $"{s}s" : s < 3600 ? $"{s / 60}m{s % 60}s" : $"{s / 3600}h{s / 60 % 60}m{s % 60}s";
    }

    private sealed class Pass(CompletionGate gate, string userId, Guid? keyId, string model, Reservation? reservation) : CompletionPass
    {
        public override async Task FinishedAsync(CompletionOutcome outcome)
        {
            var usage = outcome.Usage;
            if (reservation is not null)
            {
                if (usage is not null)
                    await gate.Limiter.SettleAsync(reservation, usage.TotalTokens);
                else if (!outcome.Started)
                    await gate.Limiter.SettleAsync(reservation, 0); // refused by the engine before any work: nothing used
                // Started and cut short without a count: the reservation stands, as the tokens were spent.
            }
            await gate.Ledger.RecordAsync(new UsageRecord
            {
                UserId = userId, ApiKeyId = keyId, Source = UsageSource.Api, Model = model,
                PromptTokens = usage?.PromptTokens ?? 0, CompletionTokens = usage?.CompletionTokens ?? 0,
                LatencyMs = (int)outcome.Elapsed.TotalMilliseconds,
                Status = outcome.Completed ? "complete" : outcome.Started ? "cancelled" : "failed",
            });
        }
    }
}
