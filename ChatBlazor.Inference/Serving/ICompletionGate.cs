using Microsoft.AspNetCore.Http;

namespace ChatBlazor.Inference.Serving;

/// <summary>
/// What the web app puts around each API completion (auth is done by then): limits before it starts, accounting
/// after it ends. The standalone host has none. A refusal is sent as OpenAI's error object with its status.
/// </summary>
public interface ICompletionGate
{
    /// <summary>Set response headers here; return a refusal, or a pass that hears how the completion ended.</summary>
    Task<CompletionAdmission> AdmitAsync(HttpContext http, CompletionRequest request, CancellationToken cancellationToken);
}

public sealed record CompletionRefusal(int Status, ErrorBody Body);

public sealed record CompletionAdmission(CompletionRefusal? Refusal, CompletionPass? Pass)
{
    public static CompletionAdmission Refuse(int status, ErrorBody body) => new(new CompletionRefusal(status, body), null);
    public static CompletionAdmission Admit(CompletionPass pass) => new(null, pass);
}

/// <summary>
/// How a completion ended. <paramref name="Started"/>: the engine produced its first chunk (before that, a failure
/// used nothing); <paramref name="Completed"/>: the client got the whole answer; <paramref name="Usage"/> is known
/// when the engine finished.
/// </summary>
public sealed record CompletionOutcome(bool Started, bool Completed, Usage? Usage, TimeSpan Elapsed);

/// <summary>Called exactly once when an admitted completion ends, however it ends.</summary>
public abstract class CompletionPass
{
    public abstract Task FinishedAsync(CompletionOutcome outcome);
}
