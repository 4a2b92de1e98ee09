extern alias emulator;

using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using ChatBlazor.Core.ApiKeys;
using ChatBlazor.Core.Billing;
using ChatBlazor.Core.Data;
using ChatBlazor.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Stripe;
using static Microsoft.Playwright.Assertions;
using EmulatorApp = emulator::ChatBlazor.StripeEmulator.EmulatorApp;

namespace ChatBlazor.E2E.Billing;

/// <summary>
/// The customer's side of billing in Chromium, through the app and the real Stripe emulator (in-process, on a
/// loopback port; its pages are what the browser pays and cancels on, and its webhooks reach the app's real
/// /stripe/webhook): upgrade and pay, a failed payment and its grace period, and cancelling in the portal.
/// Free (20 requests a minute) and Pro (120) are appsettings.json's plans; the API's x-ratelimit-limit-requests
/// header shows which one the next request ran under.
/// </summary>
public class BillingFlowTests(BillingFlowTests.Factory app) : IClassFixture<BillingFlowTests.Factory>
{
    public sealed class Factory : BrowserApp
    {
        public const string SecretKey = "sk_test_chatblazor_e2e";
        public static readonly TimeSpan GracePeriod = TimeSpan.FromDays(3);
        private readonly string _webhookSecret = $"whsec_{Guid.NewGuid():N}";
        private WebApplication? _emulator;

        public string EmulatorUrl { get; private set; } = "";
        public OffsetClockDouble Clock { get; } = new();

        public override async Task InitializeAsync()
        {
            // The catalog ./run.sh serves in test mode: Pro at $20 a month, tokens at 0.0002 cents each on a meter.
            _emulator = EmulatorApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", $"--Emulator:SecretKey={SecretKey}",
                "--Emulator:WebhookRetrySeconds=0.2", $"--Emulator:CatalogFile={Path.Combine(AppContext.BaseDirectory, "test-mode-catalog.json")}"]);
            await _emulator.StartAsync();
            EmulatorUrl = _emulator.Urls.Single();
            Set("Stripe:SecretKey", SecretKey);
            Set("Stripe:ApiBase", EmulatorUrl);
            Set("Stripe:WebhookSecret", _webhookSecret);
            Set("Stripe:PaymentGracePeriod", GracePeriod.ToString("c", CultureInfo.InvariantCulture));
            Set("Plans:Pro:StripePriceId", "price_chatblazor_pro_monthly");
            Set("Plans:Pro:StripeMeteredPriceId", "price_chatblazor_tokens");
            Set("Plans:Pro:IncludedTokens", IncludedTokens.ToString(CultureInfo.InvariantCulture));
            await base.InitializeAsync();
            // The app's address is known once it listens: only then can the emulator post to it.
            using var http = new HttpClient { BaseAddress = new Uri(EmulatorUrl) };
            (await http.PostAsJsonAsync("/_emulator/webhooks", new { url = BaseUrl.TrimEnd('/') + "/stripe/webhook", secret = _webhookSecret }))
                .EnsureSuccessStatusCode();
        }

        public const long IncludedTokens = 1000;

        public StripeClient Stripe() => new(new StripeClientOptions { ApiKey = SecretKey, ApiBase = EmulatorUrl, MeterEventsBase = EmulatorUrl });

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            if (_emulator is not null)
            {
                await _emulator.StopAsync();
                await _emulator.DisposeAsync();
            }
            GC.SuppressFinalize(this);
        }
    }

    /// <summary>Test double: real time plus an offset the test moves forward, to pass a grace period without waiting for it.</summary>
    public sealed class OffsetClockDouble : TimeProvider
    {
        private long _offsetTicks;
        public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
    }

    private const string GoodCard = "4242424242424242";

    /// <summary>A new Free user signed in, with an API key for the limits' header.</summary>
    private async Task<(IPage Page, string UserId, HttpClient Api)> FreeUserAsync()
    {
        var (page, email) = await app.SignedInPageAsync();
        await using var scope = app.Services.CreateAsyncScope();
        var user = await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByEmailAsync(email);
        var key = (await app.Services.GetRequiredService<ApiKeyStore>().CreateAsync(user!.Id, "billing")).Secret;
        var api = new HttpClient { BaseAddress = new Uri(app.BaseUrl) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (page, user.Id, api);
    }

    /// <summary>The requests-per-minute limit the next API request runs under.</summary>
    private static async Task<string> RequestLimitAsync(HttpClient api)
    {
        using var response = await api.PostAsJsonAsync("/v1/chat/completions",
            new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = "Hi" } }, max_tokens = 2 });
        response.EnsureSuccessStatusCode();
        return response.Headers.GetValues("x-ratelimit-limit-requests").Single();
    }

    /// <summary>From /billing through the emulator's Checkout page with a good card, back to /billing once Stripe's webhook made the user Pro.</summary>
    private async Task SubscribeToProAsync(IPage page)
    {
        await page.GotoAsync("/billing");
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Free");
        var upgrade = page.GetByTestId("billing-upgrade-Pro");
        await Expect(upgrade).ToBeEnabledAsync(); // interactive, and Stripe's price read
        await Expect(upgrade).ToContainTextAsync("$20.00/month");

        await upgrade.ClickAsync();

        await page.WaitForURLAsync(url => url.StartsWith(app.EmulatorUrl + "/checkout/", StringComparison.Ordinal));
        await page.GetByTestId("card-number").FillAsync(GoodCard);
        await page.GetByTestId("pay").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(app.BaseUrl, StringComparison.Ordinal) && url.Contains("/billing?checkout=done", StringComparison.Ordinal));
        // The page follows the database until the webhook has been applied, however the two raced.
        await Expect(page.GetByTestId("billing-checkout-done")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Pro");
    }

    private async Task<BillingAccount> AccountOfAsync(string userId)
    {
        await using var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();
        return await db.BillingAccounts.AsNoTracking().SingleAsync(a => a.UserId == userId);
    }

    /// <summary>Polls the user's account until <paramref name="condition"/> holds (webhooks arrive in the background; the limit only keeps a broken test from hanging).</summary>
    private async Task<BillingAccount> AccountWhenAsync(string userId, Func<BillingAccount, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var account = await AccountOfAsync(userId);
            if (condition(account))
                return account;
            await Task.Delay(100, timeout.Token);
        }
    }

    /// <summary>The emulator's control that ends the subscription's period now and charges its invoice (<paramref name="fail"/>: the charge fails).</summary>
    private async Task ClosePeriodAsync(string subscriptionId, bool fail)
    {
        using var http = new HttpClient { BaseAddress = new Uri(app.EmulatorUrl) };
        (await http.PostAsync($"/_emulator/subscriptions/{subscriptionId}/close_period",
            new FormUrlEncodedContent([new("fail", fail ? "true" : "false")]))).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task UpgradingThroughCheckoutGivesProLimitsToTheNextRequest()
    {
        var (page, userId, api) = await FreeUserAsync();
        using var _ = api;
        Assert.Equal("20", await RequestLimitAsync(api)); // Free
        await page.GotoAsync("/billing");
        await Expect(page.GetByTestId("billing-test-mode")).ToBeVisibleAsync();
        await Expect(page.GetByTestId("billing-limit-rpm")).ToHaveTextAsync("20");
        await Expect(page.GetByTestId("billing-invoices-empty")).ToBeVisibleAsync();

        await SubscribeToProAsync(page);

        Assert.Equal("120", await RequestLimitAsync(api));
        await Expect(page.GetByTestId("billing-limit-rpm")).ToHaveTextAsync("120");
        await Expect(page.GetByTestId("billing-price")).ToHaveTextAsync("$20.00 per month");
        await Expect(page.GetByTestId("billing-period")).ToContainTextAsync("renews on");
        var invoice = page.GetByTestId("billing-invoice-row");
        await Expect(invoice).ToHaveCountAsync(1); // the first month, paid at checkout
        await Expect(invoice.GetByTestId("billing-invoice-status")).ToHaveTextAsync("paid");
        await Expect(invoice.GetByTestId("billing-invoice-amount")).ToHaveTextAsync("$20.00");
        // A subscriber changes plan in the portal; Checkout would make a second subscription.
        await Expect(page.GetByTestId("billing-upgrade-Pro")).ToHaveCountAsync(0);
        await Expect(page.GetByTestId("billing-portal")).ToBeVisibleAsync();
        var account = await AccountOfAsync(userId);
        Assert.Equal(("active", "Pro"), (account.Status, account.Plan));

        // The picture in docs/screenshots, with this period's usage (the request made under Pro) on it; commit it when it changes.
        await page.GotoAsync("/billing");
        await Expect(page.GetByTestId("billing-usage-model")).ToHaveCountAsync(1);
        // A few tokens, all within the 1,000 Pro includes, at the metered price of 0.0002 cents a token.
        await Expect(page.GetByTestId("billing-metered")).ToContainTextAsync("0 tokens beyond the included amount × $0.000002 = $0.00 so far");
        var folder = Directory.CreateDirectory(Path.Combine(ChatBlazor.Testing.TestServices.RepositoryRoot(), "docs", "screenshots")).FullName;
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, "billing.png"), FullPage = true });
        Assert.True(new FileInfo(Path.Combine(folder, "billing.png")).Length > 20_000);

        // The admin console's page of the user shows the same subscription and invoice.
        var (admin, _) = await app.SignedInPageAsync(Roles.Admin);
        await admin.GotoAsync($"/admin/users/{userId}");
        await Expect(admin.GetByTestId("admin-user-customer")).ToHaveTextAsync(account.CustomerId);
        await Expect(admin.GetByTestId("admin-user-subscription-status")).ToHaveTextAsync("active");
        await Expect(admin.GetByTestId("admin-user-subscription-plan")).ToContainTextAsync("Pro");
        await Expect(admin.GetByTestId("admin-user-cancels")).ToHaveTextAsync("no");
        await Expect(admin.GetByTestId("billing-invoice-row").GetByTestId("billing-invoice-amount")).ToHaveTextAsync("$20.00");
    }

    [Fact]
    public async Task AFailedPaymentShowsTheBannerUntilTheGracePeriodEndsAndPayingRestoresPro()
    {
        var (page, userId, api) = await FreeUserAsync();
        using var _ = api;
        await SubscribeToProAsync(page);
        var subscriptionId = (await AccountOfAsync(userId)).SubscriptionId!;

        await ClosePeriodAsync(subscriptionId, fail: true);

        await AccountWhenAsync(userId, a => a.PaymentFailedSince is not null);
        await page.ReloadAsync();
        var banner = page.GetByTestId("payment-failed-banner");
        await Expect(banner).ToContainTextAsync("Your last payment failed. Update your payment method before");
        await Expect(banner).ToContainTextAsync("to keep Pro.");
        Assert.Equal("120", await RequestLimitAsync(api)); // within the grace period the plan stays
        // The banner's link leads to the unpaid invoice's page at Stripe.
        await page.GetByTestId("payment-failed-fix").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(app.EmulatorUrl + "/invoices/", StringComparison.Ordinal));
        await Expect(page.GetByTestId("invoice-status")).ToHaveTextAsync("open");

        app.Clock.Advance(Factory.GracePeriod + TimeSpan.FromMinutes(1));
        Assert.True(await app.Services.GetRequiredService<BillingEventApplier>().EndGracePeriodsAsync() >= 1);

        Assert.Equal("20", await RequestLimitAsync(api)); // Free again
        await page.GotoAsync("/billing");
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Free");
        await Expect(page.GetByTestId("payment-failed-banner")).ToHaveCountAsync(0); // nothing left to keep
        var open = page.Locator("[data-testid=billing-invoice-row][data-status=open]");
        await Expect(open).ToHaveCountAsync(1);

        await page.GotoAsync((await open.GetByTestId("billing-invoice-link").GetAttributeAsync("href"))!);
        await page.GetByTestId("card-number").FillAsync(GoodCard);
        await page.GetByTestId("pay").ClickAsync();
        await Expect(page.GetByTestId("invoice-status")).ToHaveTextAsync("paid");

        await AccountWhenAsync(userId, a => a.PaymentFailedSince is null && a.Status == "active");
        Assert.Equal("120", await RequestLimitAsync(api)); // Pro again
        await page.GotoAsync("/billing");
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Pro");
        await Expect(page.GetByTestId("payment-failed-banner")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task CancellingInThePortalKeepsProUntilThePeriodEndsThenTheDefaultPlan()
    {
        var (page, userId, api) = await FreeUserAsync();
        using var _ = api;
        await SubscribeToProAsync(page);

        await page.GetByTestId("billing-portal").ClickAsync();
        await page.WaitForURLAsync(url => url.StartsWith(app.EmulatorUrl + "/portal/", StringComparison.Ordinal));
        await page.GetByTestId("cancel").ClickAsync();
        await Expect(page.GetByTestId("renew")).ToBeVisibleAsync(); // the portal now offers to undo it
        await AccountWhenAsync(userId, a => a.CancelAtPeriodEnd);
        await page.GetByTestId("return").ClickAsync();

        await page.WaitForURLAsync(new Regex("/billing$"));
        await Expect(page.GetByTestId("billing-cancels")).ToHaveTextAsync("Cancels at period end");
        await Expect(page.GetByTestId("billing-period")).ToContainTextAsync("ends on");
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Pro");
        Assert.Equal("120", await RequestLimitAsync(api));

        await ClosePeriodAsync((await AccountOfAsync(userId)).SubscriptionId!, fail: false);

        await AccountWhenAsync(userId, a => a.Status == "canceled");
        Assert.Equal("20", await RequestLimitAsync(api));
        await page.ReloadAsync();
        await Expect(page.GetByTestId("billing-plan")).ToHaveTextAsync("Free");
        await Expect(page.GetByTestId("billing-upgrade-Pro")).ToBeVisibleAsync(); // and may subscribe again
    }

    [Fact]
    public async Task RepliesBeyondTheIncludedTokensReachTheMeterAndTheNextInvoiceListsTheirQuantity()
    {
        var (page, userId, api) = await FreeUserAsync();
        using var _ = api;
        await SubscribeToProAsync(page);
        var subscribedAt = DateTimeOffset.UtcNow;
        // Long prompts, so that four requests go beyond the 1,000 tokens Pro includes.
        var prompt = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 40));
        for (var i = 0; i < 4; i++)
        {
            using var response = await api.PostAsJsonAsync("/v1/chat/completions",
                new { model = "chatblazor-mini", messages = new[] { new { role = "user", content = $"{i}: {prompt}" } }, max_tokens = 8 });
            response.EnsureSuccessStatusCode();
        }
        // The ledger's own sum, read here rather than through the code under test.
        await using (var db = await app.Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync())
        {
            // A row is written just after its answer ended: wait for the four (polling a condition).
            while (await db.UsageRecords.CountAsync(u => u.UserId == userId) < 4)
                await Task.Delay(50);
            var used = await db.UsageRecords.Where(u => u.UserId == userId && u.Source != "title")
                .SumAsync(u => (long)u.PromptTokens + u.CompletionTokens);
            var expected = used - Factory.IncludedTokens;
            Assert.True(expected > 0, $"the requests used {used} tokens, not more than the {Factory.IncludedTokens} included");

            // The job reads the ledger up to a minute ago, floored to 5 minutes: move the app's clock past the requests.
            var windowEnd = app.Clock.GetUtcNow() - TimeSpan.FromMinutes(1);
            if (windowEnd < DateTimeOffset.UtcNow + TimeSpan.FromMinutes(5))
                app.Clock.Advance(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(6) - app.Clock.GetUtcNow());
            await app.Services.GetRequiredService<ChatBlazor.Web.Billing.UsageMetering>().RunAsync();
            await app.Services.GetRequiredService<ChatBlazor.Web.Billing.UsageMetering>().RunAsync(); // a re-run bills nothing twice

            await page.GotoAsync("/billing");
            await Expect(page.GetByTestId("billing-metered")).ToContainTextAsync($"{expected:N0} tokens beyond the included amount");

            await ClosePeriodAsync((await AccountOfAsync(userId)).SubscriptionId!, fail: false);

            var customer = (await AccountOfAsync(userId)).CustomerId;
            var invoices = await new InvoiceService(app.Stripe()).ListAsync(new InvoiceListOptions { Customer = customer });
            var closing = invoices.Data.OrderByDescending(i => i.Created).First();
            var tokenLine = closing.Lines.Data.Single(l => l.Pricing?.PriceDetails?.PriceId == "price_chatblazor_tokens");
            Assert.Equal(expected, tokenLine.Quantity);
            Assert.True(closing.Created >= subscribedAt.UtcDateTime.AddSeconds(-1));

            // The customer sees the same quantity on the invoice's page, reached from the billing page.
            await AccountWhenAsync(userId, a => a.CurrentPeriodStart > subscribedAt);
            await page.GotoAsync("/billing");
            var row = page.Locator($"[data-testid=billing-invoice-row][data-invoice='{closing.Id}']");
            await Expect(row).ToHaveCountAsync(1);
            await page.GotoAsync((await row.GetByTestId("billing-invoice-link").GetAttributeAsync("href"))!);
            await Expect(page.GetByTestId("line-quantity").Filter(new() { HasText = expected.ToString(CultureInfo.InvariantCulture) })).ToHaveCountAsync(1);
        }
    }
}
