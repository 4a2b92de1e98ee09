using System.Security.Claims;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Limits;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.Options;
using MudBlazor;

namespace ChatBlazor.Web.Billing;

/// <summary>
/// /billing: the user's plan, its limits, this period's usage and charge, and invoices, all from PostgreSQL; prices
/// come from Stripe afterwards, so Stripe being away costs the page its prices and buttons, never the rest.
/// Upgrading goes through Stripe Checkout and changes nothing here: the plan changes when Stripe's webhook says so,
/// and a user back from Checkout (<c>?checkout=done</c>) sees the page follow the database until it has.
/// </summary>
public partial class BillingPage : IDisposable
{
    /// <summary>How often, and how long, a user back from Checkout waits for the webhook: Stripe sends it within seconds.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);
    internal static readonly TimeSpan PollFor = TimeSpan.FromMinutes(1);

    private enum CheckoutState { None, Confirming, Confirmed, Late }

    [Inject] private BillingOverviews Overviews { get; set; } = null!;
    [Inject] private StripePrices Prices { get; set; } = null!;
    [Inject] private BillingSessions Sessions { get; set; } = null!;
    [Inject] private PlanCatalog Plans { get; set; } = null!;
    [Inject] private IOptions<StripeOptions> Stripe { get; set; } = null!;
    [Inject] private NavigationManager Navigation { get; set; } = null!;
    [Inject] private TimeProvider Clock { get; set; } = null!;
    [Inject] private ILogger<BillingPage> Log { get; set; } = null!;

    [CascadingParameter] private Task<AuthenticationState> Authentication { get; set; } = null!;

    /// <summary><c>done</c>: back from a paid Checkout.</summary>
    [SupplyParameterFromQuery(Name = "checkout")] public string? CheckoutResult { get; set; }

    /// <summary><c>unavailable</c>: the failed-payment link could not open the portal.</summary>
    [SupplyParameterFromQuery(Name = "portal")] public string? PortalResult { get; set; }

    private readonly CancellationTokenSource _disposed = new();
    private readonly Dictionary<string, PriceInfo> _prices = new(StringComparer.Ordinal);
    private BillingOverview? _overview;
    private string _userId = "", _email = "";
    private string? _loadError, _error;
    private bool _busy, _stripeUnavailable;
    private CheckoutState _checkout;
    private string[] _dayLabels = [];
    private List<ChartSeries<double>> _daySeries = [];

    protected override async Task OnInitializedAsync()
    {
        var user = (await Authentication).User;
        _userId = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? "";
        _email = user.FindFirstValue(ClaimTypes.Email) ?? user.Identity?.Name ?? "";
        if (PortalResult == "unavailable")
            _error = "The billing portal could not open: Stripe cannot be reached right now. Try again in a few minutes.";
        try
        {
            Show(await Overviews.ForUserAsync(_userId, _disposed.Token));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LogError(e, "Could not read the billing of user {UserId}", _userId);
            _loadError = "Your billing cannot be read right now: the database is not reachable. Chat may be affected too; try again in a moment.";
            return;
        }
        if (CheckoutResult == "done")
            _checkout = IsConfirmed(_overview!) ? CheckoutState.Confirmed : CheckoutState.Confirming;
        // Stripe is called only from the live page: a prerender must not wait on it.
        if (!RendererInfo.IsInteractive)
            return;
        if (_checkout == CheckoutState.Confirming)
            _ = WaitForConfirmationAsync(_disposed.Token); // never throws: a failure is logged and the page says the confirmation is late
        StateHasChanged();
        await LoadPricesAsync();
    }

    private void Show(BillingOverview overview)
    {
        _overview = overview;
        var last = DateOnly.FromDateTime((Clock.GetUtcNow() < overview.PeriodEnd ? Clock.GetUtcNow() : overview.PeriodEnd.AddTicks(-1)).UtcDateTime);
        var first = DateOnly.FromDateTime(overview.PeriodStart.UtcDateTime);
        // One bar a day of the period so far; a period longer than two months shows its last two.
        first = last.DayNumber - first.DayNumber > 61 ? last.AddDays(-61) : first;
        var days = Enumerable.Range(0, Math.Max(0, last.DayNumber - first.DayNumber + 1)).Select(first.AddDays).ToArray();
        var perDay = overview.ByDay.ToDictionary(d => d.Day, d => d.Tokens);
        _dayLabels = [.. days.Select(d => d.ToString("MM-dd", System.Globalization.CultureInfo.InvariantCulture))];
        _daySeries = [new() { Name = "Tokens", Data = new ChartData<double>([.. days.Select(d => (double)perDay.GetValueOrDefault(d))]) }];
    }

    /// <summary>The user's plan is the one their live subscription buys: the webhook has been applied.</summary>
    private static bool IsConfirmed(BillingOverview overview) =>
        overview.HasLiveSubscription && string.Equals(overview.Account!.Plan, overview.Plan.Name, StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads the billing again every <see cref="PollInterval"/> until the webhook's plan shows, for at most <see cref="PollFor"/>.</summary>
    private async Task WaitForConfirmationAsync(CancellationToken ct)
    {
        try
        {
            var until = Clock.GetUtcNow() + PollFor;
            using var timer = new PeriodicTimer(PollInterval, Clock);
            while (_checkout == CheckoutState.Confirming && await timer.WaitForNextTickAsync(ct))
            {
                var overview = await Overviews.ForUserAsync(_userId, ct);
                await InvokeAsync(() =>
                {
                    Show(overview);
                    _checkout = IsConfirmed(overview) ? CheckoutState.Confirmed : Clock.GetUtcNow() >= until ? CheckoutState.Late : CheckoutState.Confirming;
                    StateHasChanged();
                });
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The user left the page.
        }
        catch (Exception e)
        {
            Log.LogWarning(e, "Stopped waiting for the checkout of user {UserId} to be confirmed", _userId);
            await InvokeAsync(() =>
            {
                _checkout = CheckoutState.Late;
                StateHasChanged();
            });
        }
    }

    /// <summary>The prices the page shows: the user's plan and its metered price, and the plans they could buy.</summary>
    private async Task LoadPricesAsync()
    {
        if (!Stripe.Value.IsEnabled)
            return;
        var ids = Plans.Plans.Values.SelectMany(p => new[] { p.StripePriceId, p.StripeMeteredPriceId }).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        var prices = await Task.WhenAll(ids.Select(id => Prices.GetAsync(id, _disposed.Token)));
        foreach (var price in prices.OfType<PriceInfo>())
            _prices[price.Id] = price;
        _stripeUnavailable = prices.Any(p => p is null);
    }

    private async Task UpgradeAsync(Plan plan)
    {
        // Read again: the page may be older than a subscription made in another tab.
        await GoToStripeAsync(async () => await Sessions.CheckoutUrlAsync(_userId, _email, await Overviews.AccountAsync(_userId, _disposed.Token), plan,
            Navigation.BaseUri, _disposed.Token));
    }

    private async Task OpenPortalAsync()
    {
        if (_overview?.Account is { } account)
            await GoToStripeAsync(() => Sessions.PortalUrlAsync(account.CustomerId, Navigation.BaseUri, _disposed.Token));
    }

    /// <summary>Opens a Stripe page in this tab; a refusal or an unreachable Stripe becomes a message on this page.</summary>
    private async Task GoToStripeAsync(Func<Task<string>> session)
    {
        if (_busy)
            return;
        (_busy, _error) = (true, null);
        try
        {
            Navigation.NavigateTo(await session(), forceLoad: true);
        }
        catch (BillingUnavailableException e)
        {
            _error = e.Message;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Log.LogError(e, "Could not open a Stripe page for user {UserId}", _userId);
            _error = "That page could not be opened: the database is not reachable right now. Nothing was charged; try again in a moment.";
        }
        finally
        {
            _busy = false;
        }
    }

    private string PlanPriceText(Plan plan)
    {
        if (plan.StripePriceId is null)
            return Stripe.Value.IsEnabled ? "Free of charge" : "";
        if (!_prices.TryGetValue(plan.StripePriceId, out var price))
            return _stripeUnavailable ? "Price unavailable" : "";
        return $"{Money.Format(price.UnitAmount, price.Currency)}{(price.Interval is null ? "" : $" per {price.Interval}")}";
    }

    private string UpgradePriceText(Plan plan) =>
        plan.StripePriceId is not null && _prices.TryGetValue(plan.StripePriceId, out var price)
            ? $"({Money.Format(price.UnitAmount, price.Currency)}{(price.Interval is null ? "" : $"/{price.Interval}")})"
            : "";

    private static string PeriodText(BillingOverview overview)
    {
        var (start, end) = (overview.PeriodStart.UtcDateTime, overview.PeriodEnd.UtcDateTime);
        if (!overview.IsSubscriptionPeriod)
            return $"No subscription. Usage is counted by calendar month (UTC): {start:yyyy-MM-dd} to {end.AddDays(-1):yyyy-MM-dd}.";
        var next = overview.Account!.CancelAtPeriodEnd ? $"ends on {end:yyyy-MM-dd}" : $"renews on {end:yyyy-MM-dd}";
        return $"Current period {start:yyyy-MM-dd} to {end:yyyy-MM-dd}; {next}.";
    }

    /// <summary>
    /// The tokens beyond those included times the metered price, and where the period's pace leads: usage so far
    /// stretched over the whole period, a straight line.
    /// </summary>
    private string MeteredText(BillingOverview overview)
    {
        var plan = overview.Plan;
        var beyond = overview.TokensBeyondIncluded;
        if (!Stripe.Value.IsEnabled)
            return $"{beyond:N0} tokens beyond the included amount; nothing is charged on this server.";
        if (!_prices.TryGetValue(plan.StripeMeteredPriceId!, out var price))
            return $"{beyond:N0} tokens beyond the included amount; the metered charge is {(_stripeUnavailable ? "unavailable while Stripe cannot be reached" : "being read from Stripe")}.";
        var text = $"{beyond:N0} tokens beyond the included amount × {Money.UnitPrice(price.UnitAmount, price.Currency)} = {Money.Format(price.AmountFor(beyond), price.Currency)} so far";
        var elapsed = Clock.GetUtcNow() - overview.PeriodStart;
        var length = overview.PeriodEnd - overview.PeriodStart;
        // Less than an hour in, a straight line says more about chance than about the period.
        if (elapsed < TimeSpan.FromHours(1) || elapsed >= length)
            return text + ".";
        var projected = (long)Math.Round(overview.TokensUsed * (length / elapsed));
        var projectedBeyond = MeteredTokens.Beyond(projected, plan.IncludedTokens);
        return text + $"; at this pace {Money.Format(price.AmountFor(projectedBeyond), price.Currency)} by {overview.PeriodEnd.UtcDateTime:yyyy-MM-dd}.";
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
    }
}
