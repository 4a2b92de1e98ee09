using System.Security.Cryptography;
using System.Text;
using ChatBlazor.StripeEmulator.Model;
using Microsoft.Extensions.Options;

namespace ChatBlazor.StripeEmulator.Protocol;

/// <summary>
/// What every API request goes through, in Stripe's order: the key check (401), idempotency replays for POSTs, and
/// errors written as Stripe's error object. Pages (/checkout, /portal, /invoices) and /_emulator are not API paths.
/// </summary>
public sealed class StripeProtocolMiddleware(RequestDelegate next, IOptions<EmulatorOptions> options, IdempotencyCache idempotency,
    EmulatorStore store, ILogger<StripeProtocolMiddleware> log)
{
    private const string MeterEventStream = "/v2/billing/meter_event_stream";

    public async Task InvokeAsync(HttpContext http)
    {
        var path = http.Request.Path;
        if (!path.StartsWithSegments("/v1") && !path.StartsWithSegments("/v2"))
        {
            await next(http);
            return;
        }
        try
        {
            CheckKey(http);
            if (HttpMethods.IsPost(http.Request.Method) && http.Request.Headers["Idempotency-Key"].ToString() is { Length: > 0 } key)
                await RunIdempotentAsync(http, key);
            else
                await next(http);
        }
        catch (StripeApiException e)
        {
            await WriteErrorAsync(http, e);
        }
        catch (Exception e) when (!http.Response.HasStarted)
        {
            log.LogError(e, "Unhandled error for {Method} {Path}", http.Request.Method, path);
            await WriteErrorAsync(http, new StripeApiException(500, "api_error", null, "An unexpected error occurred in the emulator: " + e.Message));
        }
    }

    private void CheckKey(HttpContext http)
    {
        var key = PresentedKey(http.Request.Headers.Authorization.ToString())
            ?? throw new StripeApiException(401, "invalid_request_error", null,
                "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
        // The v2 meter event stream is authenticated by a meter event session's token, not the secret key.
        var valid = http.Request.Path.StartsWithSegments(MeterEventStream)
            ? store.Run(tx => tx.MeterSessionTokens.Contains(key))
            : CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(options.Value.SecretKey));
        if (!valid)
        {
            var shown = key.Length > 4 ? new string('*', Math.Min(key.Length - 4, 20)) + key[^4..] : "****";
            throw new StripeApiException(401, "invalid_request_error", "api_key_invalid", $"Invalid API Key provided: {shown}");
        }
    }

    /// <summary>The key from "Bearer KEY" (Stripe.net) or "Basic base64(KEY:)" (curl -u KEY:, as in Stripe's docs).</summary>
    private static string? PresentedKey(string header)
    {
        if (header.StartsWith("Bearer ", StringComparison.Ordinal) && header.Length > "Bearer ".Length)
            return header["Bearer ".Length..];
        if (!header.StartsWith("Basic ", StringComparison.Ordinal))
            return null;
        try
        {
            var user = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..])).Split(':')[0];
            return user.Length > 0 ? user : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private async Task RunIdempotentAsync(HttpContext http, string key)
    {
        http.Request.EnableBuffering();
        string body;
        using (var reader = new StreamReader(http.Request.Body, Encoding.UTF8, leaveOpen: true))
            body = await reader.ReadToEndAsync(http.RequestAborted);
        http.Request.Body.Position = 0;
        var fingerprint = $"{http.Request.Method} {http.Request.Path}{http.Request.QueryString}\n{body}";

        if (idempotency.Begin(key, fingerprint) is { } saved)
        {
            http.Response.StatusCode = saved.Status;
            http.Response.ContentType = saved.ContentType;
            http.Response.Headers["Idempotent-Replayed"] = "true";
            http.Response.Headers["Idempotency-Key"] = key;
            await http.Response.Body.WriteAsync(saved.Body, http.RequestAborted);
            return;
        }

        var original = http.Response.Body;
        using var captured = new MemoryStream();
        http.Response.Body = captured;
        try
        {
            try
            {
                await next(http);
            }
            catch (StripeApiException e)
            {
                await WriteErrorAsync(http, e);
            }
            // Stripe keeps the first answer, errors included, once the endpoint started executing; a request that
            // failed validation (400) saves nothing, so it can be corrected and sent again with the same key.
            if (http.Response.StatusCode == StatusCodes.Status400BadRequest)
                idempotency.Abandon(key);
            else
                idempotency.Complete(key, new IdempotencyCache.Saved(fingerprint, http.Response.StatusCode,
                    http.Response.ContentType ?? "application/json", captured.ToArray()));
        }
        catch
        {
            idempotency.Abandon(key);
            throw;
        }
        finally
        {
            http.Response.Body = original;
        }
        http.Response.Headers["Idempotency-Key"] = key;
        captured.Position = 0;
        await captured.CopyToAsync(original, http.RequestAborted);
    }

    private static async Task WriteErrorAsync(HttpContext http, StripeApiException error)
    {
        http.Response.StatusCode = error.Status;
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(StripeJson.Error(error).ToJsonString(), http.RequestAborted);
    }
}
