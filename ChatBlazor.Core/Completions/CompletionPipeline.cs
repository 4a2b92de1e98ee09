using System.Diagnostics;
using System.Text;
using System.Text.Json.Serialization;
using ChatBlazor.Core.Limits;
using ChatBlazor.Core.Moderation;
using ChatBlazor.Core.Orchestration;
using ChatBlazor.Core.Routing;
using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Core.Completions;

/// <summary>Who asks: the user it counts against, the API key when it came with one, and the user's plan.</summary>
public sealed record CompletionCaller(string UserId, Guid? ApiKeyId, Plan Plan);

/// <summary>
/// A chat turn: the system prompt, the conversation so far and the new message, stored as
/// <paramref name="MessageId"/> in <paramref name="ConversationId"/> (what a moderation flag points at).
/// </summary>
public sealed record ChatInput(string? SystemPrompt, IReadOnlyList<ChatMessage> History, ChatMessage Next, Guid? ConversationId = null, Guid? MessageId = null);

/// <summary>
/// What is asked, before the pipeline has looked at it. <see cref="Request"/> names the model and sampling and, from
/// the API, the prompt as sent (it must fit the window). A chat turn comes as <see cref="Chat"/> instead: its oldest
/// history is dropped until it fits.
/// </summary>
/// <param name="Source">One of <see cref="UsageSource"/>.</param>
/// <param name="Metered">Counted against the caller's limits; false for work the platform chooses to do (titles).</param>
/// <param name="Id">The completion's id (a chat reply's message id); a new one when null.</param>
public sealed record CompletionCall(CompletionCaller Caller, string Source, CompletionRequest Request, ChatInput? Chat = null, bool Metered = true, Guid? Id = null);

/// <summary>
/// An admitted completion: its prompt as the engine will run it (token ids where the engine has the tokenizer), its
/// reply budget in <c>Request.Sampling.MaxTokens</c>, and what it reserved. Serializable, so a reply job carries it
/// to whichever instance runs it.
/// </summary>
public sealed record CompletionTicket(
    Guid Id, string Source, string UserId, Guid? ApiKeyId, CompletionRequest Request, int PromptTokens, int DroppedMessages,
    Reservation? Reservation, bool HoldsSlot, DateTimeOffset AdmittedAt, string? Plan = null, AutoRoute? Route = null)
{
    public string Model => Request.Model;

    /// <summary>The caller's limits after admission, for the API's x-ratelimit headers; not carried by jobs.</summary>
    [JsonIgnore] public LimitDecision? Limits { get; init; }

    /// <summary>What input moderation decided about the new input (null when it was not checked); not carried by jobs.</summary>
    [JsonIgnore] public ModerationResult? InputModeration { get; init; }
}

/// <summary>
/// How an <c>auto</c> request was routed: the rule, the next candidates should the chosen model's host fail before
/// its first token, and the prompt as messages or text, since a fallback model tokenizes it its own way.
/// </summary>
public sealed record AutoRoute(string? Rule, IReadOnlyList<string> Fallbacks, IReadOnlyList<ChatMessage>? Messages, string? Prompt);

/// <summary>Part of a reply written by an earlier run of its job: the engine continues it.</summary>
public sealed record ReplyProgress(string Text, int Tokens);

/// <summary>How a completion ended, with the figures the usage row and the chat footer show.</summary>
public sealed record CompletionResult(CompletionStatus Status, int PromptTokens, int CompletionTokens, TimeSpan Elapsed)
{
    /// <summary>Why it failed (<see cref="CompletionStatus.Failed"/>).</summary>
    public Exception? Error { get; init; }
    /// <summary>Why moderation ended it (<see cref="CompletionStatus.Filtered"/>).</summary>
    public string? FilterReason { get; init; }
    public int? TimeToFirstTokenMs { get; init; }
    public double? TokensPerSecond { get; init; }
    /// <summary>The model that answered: the ticket's, or a fallback of an <c>auto</c> request.</summary>
    public string? Model { get; init; }
    /// <summary>Another run finishes it (a reply handed back at shutdown or taken over): nothing was settled here.</summary>
    public bool HandedOff { get; init; }
}

/// <summary>Thrown by a consumer of chunks that no longer owns the completion: it ends without being settled here.</summary>
public sealed class CompletionHandedOffException(string message) : Exception(message);

/// <summary>
/// The one path of every completion, chat and API alike; nothing else calls the engine. Admission: resolve the model
/// (the plan's model list enforced), check the caller is not already over a limit (cheap, before any tokenizing),
/// input moderation (a block refuses here, redaction rewrites the input, so what is counted and run is redacted),
/// render and tokenize the prompt once (the chat's oldest turns dropped by token counts until it fits), take a place
/// among the user's concurrent replies, reserve the exact prompt plus the reply budget. Running: generate, every
/// piece of text through a stream redactor before anyone sees or stores it, a final check of the whole reply by the
/// rules, then on every ending (complete, length, stop, client gone, engine error, engine host death) settle the
/// reservation to the real count, write the one usage row and tell the usage meters.
/// </summary>
public sealed class CompletionPipeline(
    IInferenceEngine engine, RateLimiter limiter, ConcurrentReplies running, UsageLedger ledger,
    ModerationService moderation, IEnumerable<IUsageMeter> meters, TimeProvider clock, ILogger<CompletionPipeline> log,
    ModelCatalog catalog, IEnumerable<IModelStates> states)
{
    private readonly IModelStates? _states = states.FirstOrDefault();
    private readonly IUsageMeter[] _meters = [.. meters];

    /// <summary>The models served and enabled.</summary>
    public IReadOnlyList<ModelInfo> Models => [.. engine.Models.Where(m => catalog.IsEnabled(m.Name))];

    /// <summary>
    /// The models <paramref name="plan"/> may use: the default model first, then the engine's order, and
    /// <c>auto</c> (routed by the admins' rules; its window is the smallest of the plan's) when rules exist.
    /// </summary>
    public IReadOnlyList<ModelInfo> ModelsFor(Plan plan)
    {
        var settings = catalog.Current;
        var models = engine.Models.Where(m => catalog.Allows(plan, m.Name)).OrderBy(m => m.Name == settings.DefaultModel ? 0 : 1).ToList();
        if (settings.Rules.Count > 0 && models.Count > 0)
        {
            var auto = new ModelInfo(AutoRouter.Model, models.Min(m => m.ContextWindow));
            models.Insert(settings.DefaultModel == AutoRouter.Model ? 0 : models.Count, auto);
        }
        return models;
    }

    /// <summary>Admits a completion or throws <see cref="CompletionRefusedException"/>; nothing is held after a refusal.</summary>
    public async Task<CompletionTicket> AdmitAsync(CompletionCall call, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(call);
        using var activity = CompletionTelemetry.Source.StartActivity("completion.admit");
        activity?.SetTag("chatblazor.source", call.Source);
        var (caller, request) = (call.Caller, call.Request);
        var plan = caller.Plan;
        AutoRoute? route = null;
        if (request.Model == AutoRouter.Model)
            (request, route) = Route(call);
        var model = engine.Models.FirstOrDefault(m => m.Name == request.Model && catalog.IsEnabled(m.Name))
            ?? throw new CompletionRefusedException(RefusalReason.ModelNotFound, $"The model '{request.Model}' does not exist.", "model");
        if (!catalog.Allows(plan, model.Name))
            throw new CompletionRefusedException(RefusalReason.ModelNotAllowed, $"Your {plan.Name} plan does not include the model '{model.Name}'.", "model");
        var sampling = request.Sampling;
        var maxBudget = call.Chat is null ? model.ContextWindow : model.ContextWindow - 1; // a chat's budget leaves room for its message
        if (sampling.MaxTokens < 1 || sampling.MaxTokens > maxBudget)
            throw new CompletionRefusedException(RefusalReason.InvalidRequest,
                $"max_tokens must be between 1 and {maxBudget:N0} for {model.Name} (its context window is {model.ContextWindow:N0} tokens); it is {sampling.MaxTokens:N0}.", "max_tokens");
        Refuse(() => sampling.Validate(int.MaxValue)); // token ids of a logit bias are the engine's to check

        var subject = new LimitSubject(caller.UserId, caller.ApiKeyId, plan);
        if (call.Metered && await limiter.CheckAsync(subject, ct) is { Admitted: false } spent)
        {
            CompletionTelemetry.Refused(spent.Refused);
            throw RateLimited(spent);
        }

        ModerationResult? moderated;
        (call, moderated) = await ModerateInputAsync(call, ct);
        request = call.Request with { Model = request.Model };
        var prompt = Prepare(call, model);
        if (route is not null)
            // A fallback renders the input as moderated: a chat's turns that fit, the API's messages or prompt.
            route = call.Chat is not null ? route with { Messages = prompt.Messages } : route with { Messages = request.Messages, Prompt = request.Prompt };
        var budget = Math.Min(sampling.MaxTokens, model.ContextWindow - prompt.Tokens.Count);
        if (budget < 1)
            throw new CompletionRefusedException(RefusalReason.PromptTooLong,
                $"The prompt takes {prompt.Tokens.Count:N0} tokens, which leaves no room for a reply in {model.Name}'s context window of {model.ContextWindow:N0}.", "messages");
        var id = call.Id ?? Guid.CreateVersion7();
        var runRequest = prompt.Tokens.Ids is { } ids
            ? request with { Sampling = sampling with { MaxTokens = budget }, PromptTokens = ids, Messages = null, Prompt = null }
            : request with { Sampling = sampling with { MaxTokens = budget }, Messages = call.Chat is null ? request.Messages : prompt.Messages };

        LimitDecision? limits = null;
        var holdsSlot = false;
        if (call.Metered)
        {
            var tokens = (long)prompt.Tokens.Count + budget;
            if (tokens > plan.TokensPerMinute)
            {
                CompletionTelemetry.Refused(null, "request_size");
                throw new CompletionRefusedException(RefusalReason.TooLarge,
                    $"This request may use {tokens:N0} tokens ({prompt.Tokens.Count:N0} in the prompt + a reply of up to {budget:N0}), more than your {plan.Name} plan's {plan.TokensPerMinute:N0} tokens per minute. Lower max_tokens or shorten the prompt.",
                    "max_tokens");
            }
            if (!await running.TryAcquireAsync(caller.UserId, id, plan.ConcurrentReplies))
            {
                CompletionTelemetry.Refused(null, "concurrent_replies");
                throw new CompletionRefusedException(RefusalReason.TooManyRunning,
                    $"You already have {plan.ConcurrentReplies} {(plan.ConcurrentReplies == 1 ? "reply" : "replies")} in progress, as many as your {plan.Name} plan runs at once. Wait for one to finish or stop it, then try again.");
            }
            holdsSlot = true;
            try
            {
                limits = await limiter.ReserveAsync(subject, tokens, ct);
            }
            catch
            {
                await running.ReleaseAsync(caller.UserId, id);
                throw;
            }
            if (!limits.Admitted)
            {
                await running.ReleaseAsync(caller.UserId, id);
                CompletionTelemetry.Refused(limits.Refused);
                throw RateLimited(limits);
            }
            CompletionTelemetry.Admitted();
        }
        activity?.SetTag("gen_ai.request.model", model.Name);

        return new CompletionTicket(id, call.Source, caller.UserId, caller.ApiKeyId, runRequest, prompt.Tokens.Count, prompt.DroppedMessages,
            limits?.Reservation, holdsSlot, clock.GetUtcNow(), plan.Name, route) { Limits = limits, InputModeration = moderated };
    }

    /// <summary>Gives back what an admitted completion holds when it will never run (its reply could not be stored).</summary>
    public async Task WithdrawAsync(CompletionTicket ticket)
    {
        if (ticket.Reservation is { } reservation)
            await limiter.SettleAsync(reservation, 0);
        if (ticket.HoldsSlot)
            await running.ReleaseAsync(ticket.UserId, ticket.Id);
    }

    /// <summary>
    /// Runs an admitted completion, handing each chunk to <paramref name="onChunk"/>, and settles it however it ends.
    /// <paramref name="stop"/> ends it as <see cref="CompletionStatus.Stopped"/> (a chunk consumer that throws does
    /// too: the client went away). <paramref name="handOff"/>, or a consumer throwing
    /// <see cref="CompletionHandedOffException"/>, ends it unsettled, for another run to finish. <paramref name="resume"/>
    /// continues a reply an earlier run began. <paramref name="beforeSettle"/> sees the result first (a reply stores its
    /// ending there) and returns false when this run may no longer settle it.
    /// </summary>
    public async Task<CompletionResult> RunAsync(CompletionTicket ticket, Func<GenerationChunk, Task> onChunk, CancellationToken stop,
        CancellationToken handOff = default, ReplyProgress? resume = null, Func<CompletionResult, Task<bool>>? beforeSettle = null)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ArgumentNullException.ThrowIfNull(onChunk);
        using var activity = CompletionTelemetry.Source.StartActivity("completion.run");
        activity?.SetTag("gen_ai.request.model", ticket.Model);
        activity?.SetTag("chatblazor.source", ticket.Source);
        CompletionTelemetry.ReplyStarted(ticket.Model, ticket.Source);
        var started = Stopwatch.StartNew();
        var lastText = TimeSpan.Zero;
        var fallbacks = new Queue<string>(resume is null ? ticket.Route?.Fallbacks ?? [] : []); // a resumed reply keeps its model
        var request = resume is { Text.Length: > 0 }
            ? ticket.Request with { AssistantPrefix = resume.Text, Sampling = ticket.Request.Sampling with { MaxTokens = Math.Max(1, ticket.Request.Sampling.MaxTokens - resume.Tokens) } }
            : ticket.Request;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stop, handOff);
        var redactor = moderation.NewStreamRedactor();
        var held = new HeldTokens();
        using var leaseEnd = new CancellationTokenSource();
        var lease = ticket.HoldsSlot ? KeepPlaceAsync(ticket, leaseEnd.Token) : Task.CompletedTask;

        var text = new StringBuilder();
        GenerationUsage? usage = null;
        FinishReason? finish = null;
        Exception? error = null, consumerError = null;
        string? filterReason = null;
        long? firstTokenMs = null;
        var chunks = 0;
        try
        {
            while (true)
            {
                try
                {
                    await foreach (var chunk in engine.GenerateAsync(request, cancel.Token))
                    {
                        chunks++;
                        (usage, finish) = (chunk.Usage ?? usage, chunk.FinishReason ?? finish);
                        var shown = chunk;
                        if (chunk.Text.Length > 0 || chunk.FinishReason is not null)
                        {
                            if (chunk.Text.Length > 0)
                            {
                                if (firstTokenMs is not null)
                                    CompletionTelemetry.TextGap(ticket.Model, ticket.Source, started.Elapsed - lastText);
                                firstTokenMs ??= started.ElapsedMilliseconds;
                                lastText = started.Elapsed;
                            }
                            text.Append(chunk.Text);
                            // Personal data and secrets the model writes are replaced before anyone sees or stores them;
                            // the redactor holds back a tail that may still grow into one, released at the finish.
                            var safe = redactor.Push(chunk.Text) + (chunk.FinishReason is not null ? redactor.Flush() : "");
                            held.Add(chunk);
                            if (safe.Length == 0 && chunk.FinishReason is null && chunk.Usage is null)
                                continue;
                            shown = held.Release(chunk, safe, redactor.Held == 0);
                        }
                        try
                        {
                            // An auto request's answer names the model that gives it, as OpenAI names a dated model for an alias.
                            await onChunk(ticket.Route is null ? shown : shown with { Model = request.Model });
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            consumerError = e;
                            break;
                        }
                    }
                    break;
                }
                catch (Exception e) when (firstTokenMs is null && !cancel.IsCancellationRequested && IsHostFailure(e) && fallbacks.TryDequeue(out var next))
                {
                    // Nothing reached the caller yet: the next candidate answers instead, with the prompt tokenized its own way.
                    log.LogWarning(e, "Completion {CompletionId}: {Model} failed before its first token; falling back to {Next}", ticket.Id, request.Model, next);
                    request = FallbackRequest(ticket, next);
                    (usage, finish, chunks) = (null, null, 0);
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // stopped, handed off or filtered: decided below
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error = e;
        }
        await leaseEnd.CancelAsync();
        await lease;
        if (redactor.Flush() is { Length: > 0 } rest && consumerError is null && !handOff.IsCancellationRequested)
        {
            // Stopped or failed mid-reply: what was held back is shown and kept too, redacted.
            try
            {
                await onChunk(new GenerationChunk(rest, [], Model: ticket.Route is null ? null : request.Model));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                consumerError = e;
            }
        }

        var handedOff = handOff.IsCancellationRequested || consumerError is CompletionHandedOffException;
        var status = filterReason is not null ? CompletionStatus.Filtered
            : error is not null ? CompletionStatus.Failed
            : finish is { } f && f != FinishReason.Cancelled ? CompletionStatuses.From(f)
            : stop.IsCancellationRequested || consumerError is not null || finish == FinishReason.Cancelled ? CompletionStatus.Stopped
            : CompletionStatus.Failed;
        if (status == CompletionStatus.Failed && error is null)
            error = new EngineUnavailableException("The model's stream ended without finishing the reply.");
        if (status is CompletionStatus.Complete or CompletionStatus.Length
            && moderation.CheckRules((resume?.Text ?? "") + text) is { Action: ModerationAction.Block } blocked)
            (status, filterReason) = (CompletionStatus.Filtered, blocked.Reason);

        // The engine's own count where it gave one; otherwise what the text tokenizes to (exact in this process).
        var earlier = resume?.Tokens ?? 0;
        var promptTokens = resume is not null ? ticket.PromptTokens : usage?.PromptTokens ?? (chunks > 0 ? ticket.PromptTokens : 0);
        var generated = usage?.CompletionTokens ?? (chunks > 0 ? CountText(request.Model, text.ToString()) : 0);
        var seconds = started.Elapsed.TotalSeconds - (firstTokenMs ?? 0) / 1000.0;
        var result = new CompletionResult(status, promptTokens, earlier + generated, started.Elapsed)
        {
            Error = error, FilterReason = filterReason, TimeToFirstTokenMs = (int?)firstTokenMs,
            TokensPerSecond = generated > 1 && seconds > 0 ? Math.Round((generated - 1) / seconds, 1) : null,
            HandedOff = handedOff, Model = request.Model,
        };
        if (error is not null)
            log.LogWarning(error, "Completion {CompletionId} on {Model} failed", ticket.Id, request.Model);
        activity?.SetTag("chatblazor.status", status.ToString().ToLowerInvariant());
        if (error is not null)
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        if (handedOff)
            return result;
        CompletionTelemetry.ReplyFinished(ticket.Model, ticket.Source, result);
        if (beforeSettle is not null)
        {
            try
            {
                if (!await beforeSettle(result))
                    return result with { HandedOff = true };
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogError(e, "Completion {CompletionId} could not store its ending; settling it all the same", ticket.Id);
            }
        }
        await SettleAsync(ticket, result);
        return result;
    }

    /// <summary>
    /// Writes the usage row and, if this call wrote it, moves the reservation to the real count and tells the meters.
    /// A completion already settled (another run of its job got here first) changes nothing.
    /// </summary>
    public async Task SettleAsync(CompletionTicket ticket, CompletionResult result)
    {
        if (ticket.HoldsSlot)
            await running.ReleaseAsync(ticket.UserId, ticket.Id); // generation is over: the place is free before the ledger write
        var row = new UsageRecord
        {
            CompletionId = ticket.Id, UserId = ticket.UserId, ApiKeyId = ticket.ApiKeyId, Source = ticket.Source, Model = result.Model ?? ticket.Model, Plan = ticket.Plan,
            PromptTokens = result.PromptTokens, CompletionTokens = result.CompletionTokens,
            LatencyMs = (int)Math.Min(int.MaxValue, result.Elapsed.TotalMilliseconds), Status = result.Status,
        };
        var recorded = await ledger.RecordOnceAsync(row);
        if (recorded == Recorded.AlreadySettled)
            return;
        if (ticket.Reservation is { } reservation)
            await limiter.SettleAsync(reservation, result.PromptTokens + result.CompletionTokens);
        if (recorded != Recorded.Added)
            return;
        foreach (var meter in _meters)
        {
            try
            {
                await meter.RecordAsync(row, CancellationToken.None);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                log.LogError(e, "Usage meter {Meter} missed completion {CompletionId}", meter.GetType().Name, ticket.Id);
            }
        }
    }

    /// <summary>
    /// Resolves <c>auto</c>: the admins' rules pick candidates from the request's plan, last user message and estimated
    /// prompt length (no model is chosen yet to count exactly) and the models' live state; the first answers.
    /// </summary>
    private (CompletionRequest Request, AutoRoute Route) Route(CompletionCall call)
    {
        var request = call.Request;
        var messages = call.Chat is { } chat
            ? [.. chat.SystemPrompt is { Length: > 0 } system ? [new ChatMessage("system", system)] : Array.Empty<ChatMessage>(), .. chat.History, chat.Next]
            : request.Messages;
        var lastUser = call.Chat?.Next.Content ?? messages?.LastOrDefault(m => m.Role == "user")?.Content ?? request.Prompt ?? "";
        var estimate = messages is not null ? TokenizedPrompt.Estimate(messages).Count : TokenizedPrompt.Estimate(request.Prompt ?? "").Count;
        var decision = catalog.Route(call.Caller.Plan, lastUser, estimate, engine.Models, _states);
        if (decision.Candidates.Count == 0)
            throw new CompletionRefusedException(RefusalReason.ModelNotFound,
                $"No model can answer 'auto' right now for your {call.Caller.Plan.Name} plan{(decision.Skipped.Count > 0 ? $" ({string.Join("; ", decision.Skipped)})" : "")}. Choose a model.", "model");
        // A chat turn keeps its structured input: the fallback prompt is rebuilt from it within the fallback's window.
        return (request with { Model = decision.Candidates[0] },
            new AutoRoute(decision.Rule, decision.Candidates.Skip(1).ToArray(), call.Chat is null ? request.Messages : messages, request.Prompt));
    }

    /// <summary>The request for fallback <paramref name="model"/>: the prompt as messages or text again, for it to tokenize.</summary>
    private static CompletionRequest FallbackRequest(CompletionTicket ticket, string model) => ticket.Request with
    {
        Model = model, PromptTokens = ticket.Route?.Messages is null && ticket.Route?.Prompt is null ? ticket.Request.PromptTokens : null,
        Messages = ticket.Route?.Messages, Prompt = ticket.Route?.Messages is null ? ticket.Route?.Prompt : null,
    };

    /// <summary>Failures of the model's host, not of the request: another model may well answer it.</summary>
    private static bool IsHostFailure(Exception e) => e is EngineUnavailableException or EngineOverloadedException or ModelNotFoundException;

    /// <summary>Tokens of a text alone, as the model counts them (the engine's estimate for a remote model).</summary>
    public int CountText(string model, string text)
    {
        try
        {
            return engine.Tokenize(model, text).Count;
        }
        catch (Exception e) when (e is ModelNotFoundException or ArgumentException or InvalidOperationException)
        {
            return TokenizedPrompt.Estimate(text).Count;
        }
    }

    /// <summary>The prompt as the engine will run it, tokenized once.</summary>
    private Prompt Prepare(CompletionCall call, ModelInfo model)
    {
        var request = call.Request;
        return Refuse(() =>
        {
            if (call.Chat is { } chat)
            {
                var prompt = PromptBuilder.Build(chat.SystemPrompt, chat.History, chat.Next, model.ContextWindow, request.Sampling.MaxTokens,
                    messages => engine.TokenizeChat(model.Name, messages), text => engine.Tokenize(model.Name, text).Count);
                return prompt;
            }
            if (request.Messages is { } messages)
                return Fitting(new Prompt(messages, engine.TokenizeChat(model.Name, messages), 0), model);
            if (request.Prompt is { } text)
                return Fitting(new Prompt([], engine.Tokenize(model.Name, text), 0), model);
            if (request.PromptTokens is { Count: > 0 } ids)
                return Fitting(new Prompt([], new TokenizedPrompt(ids.Count, ids), 0), model);
            throw new CompletionRefusedException(RefusalReason.InvalidRequest, "The request has no prompt.", "prompt");
        });
    }

    private static Prompt Fitting(Prompt prompt, ModelInfo model) => prompt.Tokens.Count < model.ContextWindow ? prompt
        : throw new CompletionRefusedException(RefusalReason.PromptTooLong,
            $"The prompt takes {prompt.Tokens.Count:N0} tokens, but {model.Name}'s context window is {model.ContextWindow:N0}. Shorten it.", "messages");

    /// <summary>The engine's and the template's complaints about a request, as refusals the caller can read.</summary>
    private static T Refuse<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (ModelNotFoundException e)
        {
            throw new CompletionRefusedException(RefusalReason.ModelNotFound, $"The model '{e.Model}' does not exist.", "model");
        }
        catch (ChatTemplateException e) when (e.RaisedByTemplate)
        {
            throw new CompletionRefusedException(RefusalReason.InvalidRequest, $"The model's chat template refused these messages: {e.Message}", "messages");
        }
        catch (ChatTemplateException e)
        {
            throw new CompletionRefusedException(RefusalReason.TemplateFailed, $"The model's chat template could not format this conversation: {e.Message}");
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new CompletionRefusedException(RefusalReason.InvalidRequest, MessageOf(e), (e as ArgumentException)?.ParamName);
        }
    }

    private static void Refuse(Action work) => Refuse(() => { work(); return 0; });

    private static string MessageOf(Exception e) => e is ArgumentException { ParamName: { } name } a && a.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
        ? a.Message[..^$" (Parameter '{name}')".Length]
        : e.Message;

    private static CompletionRefusedException RateLimited(LimitDecision decision) =>
        new(RefusalReason.RateLimited, decision.Refusal!) { RetryAt = decision.RetryAt, Limits = decision };

    /// <summary>
    /// Input moderation: the caller's new input — a chat's new message; the API's user and tool messages, or its
    /// prompt — is checked (rules and classifier). The strongest decision is recorded as a flag (Flag, Review, Block);
    /// a block refuses, naming the policy; redaction rewrites each redacted text. A chat's history (stored as it was
    /// written, unless the settings store it redacted) has its personal data redacted by the rules again, so the
    /// model never reads it in a later turn either. Work the platform does itself (titles) is only redacted: its input
    /// was the user's, already checked. Token ids alone carry no text to check.
    /// </summary>
    private async Task<(CompletionCall Call, ModerationResult? Result)> ModerateInputAsync(CompletionCall call, CancellationToken ct)
    {
        var request = call.Request;
        if (!call.Metered)
            return (call with
            {
                Request = request with { Messages = request.Messages?.Select(RedactMessage).ToList(), Prompt = request.Prompt is { } p ? moderation.RedactPersonalData(p) : null },
                Chat = call.Chat is { } c ? c with { History = [.. c.History.Select(RedactMessage)], Next = RedactMessage(c.Next) } : null,
            }, null);

        ModerationResult? strongest = null;
        string? strongestText = null;
        ModerationResult Check(string text)
        {
            var result = moderation.Check(text);
            // Of several messages the one to record: redaction alone records nothing, so any flag outranks it.
            if (strongest is null || Rank(result.Action) > Rank(strongest.Action))
                (strongest, strongestText) = (result, text);
            return result;
        }
        ChatMessage Moderate(ChatMessage m) => m.Role is "user" or "tool" && Check(m.Content).RedactedText is { } redacted ? m with { Content = redacted } : m;

        if (call.Chat is { } chat)
        {
            var next = Check(chat.Next.Content);
            call = call with { Chat = chat with { History = [.. chat.History.Select(RedactMessage)], Next = chat.Next with { Content = next.RedactedText ?? chat.Next.Content } } };
        }
        else if (request.Messages is { } messages)
            call = call with { Request = request with { Messages = [.. messages.Select(Moderate)] } };
        else if (request.Prompt is { } prompt)
            call = call with { Request = request with { Prompt = Check(prompt).RedactedText ?? prompt } };
        if (strongest is null)
            return (call, null);

        var source = call.Source == UsageSource.Api ? ModerationSource.Api : ModerationSource.Chat;
        var context = new ModerationContext(call.Caller.UserId, source, ModerationDirection.Input, call.Chat?.ConversationId, call.Chat?.MessageId, call.Caller.ApiKeyId);
        await moderation.RecordAsync(context, strongestText!, strongest, ct);
        if (strongest.Action == ModerationAction.Block)
            throw new CompletionRefusedException(RefusalReason.Moderated, strongest.Reason + (call.Chat is not null
                ? " Your message is saved, but it was not sent to the model."
                : " Nothing was sent to the model."), call.Chat is null && request.Prompt is not null ? "prompt" : "messages");
        return (call, strongest);
    }

    /// <summary>
    /// The token ids and log-probabilities of text the stream redactor holds back, given out with that text once it
    /// is released as it came. Of text that was replaced, or released in parts, they are dropped: they would show
    /// what was redacted, or no longer match the text they go with.
    /// </summary>
    private sealed class HeldTokens
    {
        private readonly StringBuilder _text = new();
        private readonly List<int> _ids = [];
        private List<SampledToken>? _logprobs;

        public void Add(GenerationChunk chunk)
        {
            _text.Append(chunk.Text);
            _ids.AddRange(chunk.TokenIds);
            if (chunk.Logprobs is { } logprobs)
                (_logprobs ??= []).AddRange(logprobs);
        }

        /// <summary><paramref name="chunk"/> carrying the released text <paramref name="safe"/>; <paramref name="drained"/>: nothing is held any more.</summary>
        public GenerationChunk Release(GenerationChunk chunk, string safe, bool drained)
        {
            var whole = drained && safe == _text.ToString();
            var shown = whole
                ? chunk with { Text = safe, TokenIds = [.. _ids], Logprobs = _logprobs is null ? null : [.. _logprobs] }
                : chunk with { Text = safe, TokenIds = [], Logprobs = null };
            if (drained)
            {
                _text.Clear();
                _ids.Clear();
                _logprobs = null;
            }
            return shown;
        }
    }

    private static int Rank(ModerationAction action) => action == ModerationAction.Redact ? 0 : (int)action;

    private ChatMessage RedactMessage(ChatMessage m) => m with { Content = moderation.RedactPersonalData(m.Content) };

    /// <summary>Renews the completion's place among the user's running replies until it ends.</summary>
    private async Task KeepPlaceAsync(CompletionTicket ticket, CancellationToken ended)
    {
        using var timer = new PeriodicTimer(ConcurrentReplies.Lease / 4, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ended))
                await running.RenewAsync(ticket.UserId, ticket.Id);
        }
        catch (OperationCanceledException) when (ended.IsCancellationRequested)
        {
        }
    }
}
