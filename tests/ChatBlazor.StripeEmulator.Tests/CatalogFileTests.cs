using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>
/// Emulator:CatalogFile: the test-mode catalog that ./run.sh seeds, read back through Stripe.net by the fixed ids the
/// app is configured with, and the clear refusal of a bad file.
/// </summary>
public sealed class CatalogFileTests : IDisposable
{
    // The build copies the file beside the tests (see the emulator's csproj): the same file ./run.sh gives the emulator.
    private static readonly string TestModeCatalog = Path.Combine(AppContext.BaseDirectory, "test-mode-catalog.json");

    private readonly string _badFile = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.json");

    [Fact]
    public async Task TheTestModeCatalogsPricesAndMeterHaveTheirFixedIds()
    {
        await using var emulator = await EmulatorServer.StartAsync(catalogFile: TestModeCatalog);
        var prices = new PriceService(emulator.Client);

        var pro = await prices.GetAsync("price_chatblazor_pro_monthly");
        var team = await prices.GetAsync("price_chatblazor_team_monthly");
        var tokens = await prices.GetAsync("price_chatblazor_tokens");
        var meter = await new Stripe.Billing.MeterService(emulator.Client).GetAsync("mtr_chatblazor_tokens");

        Assert.Equal(("prod_chatblazor_pro", "usd", 2000L, "month", "licensed"),
            (pro.ProductId, pro.Currency, pro.UnitAmount!.Value, pro.Recurring.Interval, pro.Recurring.UsageType));
        Assert.Equal(("prod_chatblazor_team", 10000L, "month"), (team.ProductId, team.UnitAmount!.Value, team.Recurring.Interval));
        // $2 per million tokens: 0.0002 cents a token.
        Assert.Equal(("prod_chatblazor_tokens", 0.0002m, "metered", "mtr_chatblazor_tokens"),
            (tokens.ProductId, tokens.UnitAmountDecimal!.Value, tokens.Recurring.UsageType, tokens.Recurring.Meter));
        Assert.Equal(("chatblazor_tokens", "sum"), (meter.EventName, meter.DefaultAggregation.Formula));
        var product = await new ProductService(emulator.Client).GetAsync("prod_chatblazor_pro");
        Assert.Equal("ChatBlazor Pro", product.Name);
    }

    [Fact]
    public async Task ACheckoutWithTheSeededPricesIsPaidIntoAnActiveSubscription()
    {
        await using var emulator = await EmulatorServer.StartAsync(catalogFile: TestModeCatalog);
        var catalog = new TestCatalog(
            await new PriceService(emulator.Client).GetAsync("price_chatblazor_pro_monthly"),
            await new PriceService(emulator.Client).GetAsync("price_chatblazor_tokens"),
            await new Stripe.Billing.MeterService(emulator.Client).GetAsync("mtr_chatblazor_tokens"));
        var session = await catalog.CheckoutAsync(emulator.Client, "user-seeded", "seeded@example.com");
        using var http = emulator.Http();

        await TestCatalog.PayAsync(http, session, "4242424242424242");
        var paid = await new Stripe.Checkout.SessionService(emulator.Client).GetAsync(session.Id,
            new Stripe.Checkout.SessionGetOptions { Expand = ["subscription"] });

        Assert.Equal("complete", paid.Status);
        Assert.Equal("active", paid.Subscription.Status);
        Assert.Equal(["price_chatblazor_pro_monthly", "price_chatblazor_tokens"], paid.Subscription.Items.Data.Select(i => i.Price.Id));
        var invoice = await new InvoiceService(emulator.Client).GetAsync(paid.Subscription.LatestInvoiceId);
        Assert.Equal(("paid", 2000L), (invoice.Status, invoice.AmountPaid));
    }

    [Fact]
    public async Task SeedingCreatesExactlyTheCatalogsPricesAndSendsNoEvents()
    {
        await using var emulator = await EmulatorServer.StartAsync(catalogFile: TestModeCatalog);

        var listed = await new PriceService(emulator.Client).ListAsync(new PriceListOptions { Limit = 10 });
        var events = await new EventService(emulator.Client).ListAsync();

        Assert.Equal(["price_chatblazor_pro_monthly", "price_chatblazor_team_monthly", "price_chatblazor_tokens"],
            listed.Data.Select(p => p.Id).Order(StringComparer.Ordinal));
        Assert.Empty(events.Data);
    }

    [Fact]
    public void AnEntryTheApiWouldRefuseStopsTheStartNamingTheFileAndTheEntry()
    {
        System.IO.File.WriteAllText(_badFile, """
            {
              "products": [ { "id": "prod_x", "name": "X" } ],
              "prices": [
                { "id": "price_ok", "product": "prod_x", "currency": "usd", "unit_amount": 100, "recurring": { "interval": "month" } },
                { "id": "price_bad", "product": "prod_x", "currency": "usd", "unit_amount": 100, "recurring": { "interval": "fortnight" } }
              ]
            }
            """);

        var error = Assert.Throws<InvalidDataException>(() => EmulatorApp.Build(
            ["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--Emulator:CatalogFile={_badFile}"]));

        Assert.Contains(_badFile, error.Message);
        Assert.Contains("prices[1] (price_bad)", error.Message);
        Assert.Contains("recurring[interval]", error.Message);
    }

    [Theory]
    [InlineData("""{ "products": [ { "name": "No id" } ] }""", "products[0] needs an \"id\" such as prod_")]
    [InlineData("""{ "meters": [ { "id": "price_wrong_kind", "display_name": "T", "event_name": "t", "default_aggregation": { "formula": "sum" } } ] }""",
        "meters[0] needs an \"id\" such as mtr_")]
    [InlineData("""{ "prices": [ { "id": "price_x", "product": "prod_missing", "currency": "usd", "unit_amount": 1 } ] }""",
        "prices[0] (price_x): No such product: 'prod_missing'")]
    [InlineData("""{ "plans": [] }""", "unknown section 'plans'")]
    [InlineData("""{ "products": [ { "id": "prod_x", "name": "X" }, """, "is not valid JSON")]
    public void AFaultyFileIsRefusedWithWhatIsWrong(string json, string expected)
    {
        System.IO.File.WriteAllText(_badFile, json);

        var error = Assert.Throws<InvalidDataException>(() => EmulatorApp.Build(
            ["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--Emulator:CatalogFile={_badFile}"]));

        Assert.StartsWith($"Emulator:CatalogFile {_badFile}: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void AMissingFileIsRefusedNamingIt()
    {
        var error = Assert.Throws<InvalidDataException>(() => EmulatorApp.Build(
            ["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--Emulator:CatalogFile={_badFile}"]));

        Assert.Contains(_badFile, error.Message);
        Assert.Contains("cannot be read", error.Message);
    }

    public void Dispose() => System.IO.File.Delete(_badFile);
}
