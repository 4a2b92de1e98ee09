using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace ChatBlazor.Inference.Serving;

/// <summary>Exceptions as OpenAI's error object, <c>{"error":{"message","type","param","code"}}</c>; never a stack trace.</summary>
public static class OpenAiErrors
{
    private const string InvalidRequest = "invalid_request_error";
    private const string ServerError = "server_error";

    public static (int Status, ErrorBody Body) For(Exception e) => e switch
    {
        ModelNotFoundException m => (StatusCodes.Status404NotFound, new ErrorBody(m.Message, InvalidRequest, "model", "model_not_found")),
        EngineOverloadedException o => (StatusCodes.Status503ServiceUnavailable, new ErrorBody(o.Message, ServerError, null, "engine_overloaded")),
        EngineUnavailableException u => (StatusCodes.Status503ServiceUnavailable, new ErrorBody(u.Message, ServerError, null, "engine_unavailable")),
        ArgumentException a => (StatusCodes.Status400BadRequest, new ErrorBody(MessageOf(a), InvalidRequest, a.ParamName, null)),
        // raise_exception is the template refusing these messages (roles that do not alternate, say): the caller's
        // to fix. Any other template failure is the model folder's.
        ChatTemplateException { RaisedByTemplate: true } t => (StatusCodes.Status400BadRequest, new ErrorBody($"The model's chat template refused these messages: {t.Message}", InvalidRequest, "messages", "chat_template_error")),
        ChatTemplateException t => (StatusCodes.Status500InternalServerError, new ErrorBody($"The model's chat template failed: {t.Message}", ServerError, null, "chat_template_error")),
        _ => (StatusCodes.Status500InternalServerError, new ErrorBody("The server had an error while processing your request.", ServerError, null, null)),
    };

    /// <summary>A body that is not JSON, or a field of the wrong JSON type: the param is the field's top-level name.</summary>
    public static (int Status, ErrorBody Body) BadJson(JsonException e)
    {
        var param = e.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal)
            ? path[2..].Split('.', '[')[0]
            : null;
        var message = param is null ? "The request body is not a valid JSON object." : $"'{param}' has a value of the wrong type.";
        return (StatusCodes.Status400BadRequest, new ErrorBody(message, InvalidRequest, param, null));
    }

    public static async Task WriteAsync(HttpContext http, ILogger log, (int Status, ErrorBody Body) error, Exception? e)
    {
        Log(log, error.Status, error.Body, e);
        http.Response.StatusCode = error.Status;
        if (e is EngineOverloadedException)
            http.Response.Headers.RetryAfter = "1";
        await http.Response.WriteAsJsonAsync(new ErrorResponse(error.Body), OpenAiJson.Options, http.RequestAborted);
    }

    public static void Log(ILogger log, int status, ErrorBody body, Exception? e)
    {
        // Only the unexpected deserves a stack trace; a 4xx is the client's business and a 503 is load.
        if (status >= 500 && body.Code is null)
            log.LogError(e, "Completion failed with {Status}", status);
        else
            log.LogInformation("Completion refused with {Status} {Code}: {Message}", status, body.Code ?? body.Type, body.Message);
    }

    /// <summary><see cref="ArgumentException.Message"/> appends " (Parameter 'x')"; the error object names it in param instead.</summary>
    private static string MessageOf(ArgumentException e) =>
        e.ParamName is { } name && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? e.Message[..^$" (Parameter '{name}')".Length]
            : e.Message;
}
