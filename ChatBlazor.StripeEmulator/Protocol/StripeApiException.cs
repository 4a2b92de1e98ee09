namespace ChatBlazor.StripeEmulator.Protocol;

/// <summary>
/// A failure answered with Stripe's error object, <c>{"error":{"type","code","message","param"}}</c>, and the status
/// Stripe uses for it (400 invalid request, 401 bad key, 402 card error, 404 missing resource, 409 idempotency clash).
/// </summary>
public sealed class StripeApiException(int status, string type, string? code, string message, string? param = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Code { get; } = code;
    public string? Param { get; } = param;

    public static StripeApiException MissingParam(string param) =>
        new(400, "invalid_request_error", "parameter_missing", $"Missing required param: {param}.", param);

    public static StripeApiException InvalidParam(string param, string message) =>
        new(400, "invalid_request_error", "parameter_invalid", message, param);

    public static StripeApiException NoSuch(string what, string id) =>
        new(404, "invalid_request_error", "resource_missing", $"No such {what}: '{id}'", "id");

    public static StripeApiException InvalidRequest(string message, string? param = null) =>
        new(400, "invalid_request_error", null, message, param);
}
