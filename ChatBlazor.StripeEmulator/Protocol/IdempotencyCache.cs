namespace ChatBlazor.StripeEmulator.Protocol;

/// <summary>
/// Stripe's <c>Idempotency-Key</c>: the first POST with a key runs and its answer is kept; the same key with the same
/// request gets that answer again (with <c>Idempotent-Replayed: true</c>) without running twice; the same key with
/// different parameters is a 400 idempotency_error, and a key whose first request is still running is a 409.
/// Answers are kept whatever their status (Stripe replays errors too), except a 400: a request that failed validation.
/// Kept for the emulator's lifetime (Stripe keeps them 24 hours).
/// </summary>
public sealed class IdempotencyCache
{
    public sealed record Saved(string Fingerprint, int Status, string ContentType, byte[] Body);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Saved?> _byKey = new(StringComparer.Ordinal);

    /// <summary>A saved answer to replay, or null when the caller should run the request (and then call Complete).</summary>
    public Saved? Begin(string key, string fingerprint)
    {
        lock (_gate)
        {
            if (!_byKey.TryGetValue(key, out var saved))
            {
                _byKey[key] = null;
                return null;
            }
            if (saved is null)
                throw new StripeApiException(409, "idempotency_error", null,
                    "There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): " + key + ". Please try again later.");
            if (saved.Fingerprint != fingerprint)
                throw new StripeApiException(400, "idempotency_error", null,
                    "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '" + key + "' if you meant to execute a different request.");
            return saved;
        }
    }

    public void Complete(string key, Saved saved)
    {
        lock (_gate)
            _byKey[key] = saved;
    }

    /// <summary>A request that failed validation changed nothing and may be sent again with its key.</summary>
    public void Abandon(string key)
    {
        lock (_gate)
            _byKey.Remove(key);
    }
}
