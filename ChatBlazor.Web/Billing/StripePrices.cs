using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Stripe;

namespace ChatBlazor.Web.Billing;

/// <summary>A Stripe price as the billing page shows it: per unit in the currency's smallest unit (cents), which may be a fraction for a metered price.</summary>
public sealed record PriceInfo(string Id, decimal UnitAmount, string Currency, string? Interval, bool IsMetered)
{
    /// <summary><paramref name="units"/> of this price, in cents.</summary>
    public decimal AmountFor(long units) => units * UnitAmount;
}

/// <summary>
/// Prices read from Stripe (the catalog lives there, configuration only names the ids), kept for
/// <see cref="Lifetime"/> so the billing page does not call Stripe on every load. A failure is kept for
/// <see cref="FailureLifetime"/>: while Stripe is away the page says so at once instead of waiting on each load.
/// </summary>
public sealed class StripePrices(IOptions<StripeOptions> options, IServiceProvider services, TimeProvider clock, ILogger<StripePrices> log)
{
    internal static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    internal static readonly TimeSpan FailureLifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<string, (PriceInfo? Price, DateTimeOffset At)> _cache = new(StringComparer.Ordinal);

    /// <summary>The price, or null when billing is off or Stripe cannot be reached now (logged).</summary>
    public async Task<PriceInfo?> GetAsync(string priceId, CancellationToken ct = default)
    {
        if (!options.Value.IsEnabled)
            return null;
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(priceId, out var cached) && now - cached.At < (cached.Price is null ? FailureLifetime : Lifetime))
            return cached.Price;
        PriceInfo? info = null;
        try
        {
            // Resolved here, not injected: the client exists only when billing is on.
            var price = await new PriceService(services.GetRequiredService<StripeClient>()).GetAsync(priceId, cancellationToken: ct);
            // unit_amount_decimal carries fractions of a cent (a metered token price); unit_amount is whole cents.
            info = new PriceInfo(price.Id, price.UnitAmountDecimal ?? price.UnitAmount ?? 0, price.Currency ?? "usd",
                price.Recurring?.Interval, price.Recurring?.UsageType == "metered");
        }
        catch (Exception e) when (e is StripeException or HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            log.LogWarning("Could not read Stripe price {PriceId}: {Reason}", priceId, e.Message);
        }
        _cache[priceId] = (info, now);
        return info;
    }
}
