using Stripe;
using Stripe.Checkout;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>The catalog ChatBlazor sets up: a flat monthly plan and a metered token price on a billing meter.</summary>
public sealed record TestCatalog(Price Plan, Price Tokens, Stripe.Billing.Meter Meter)
{
    public const string MeterEventName = "chatblazor_tokens";

    public static async Task<TestCatalog> CreateAsync(StripeClient client)
    {
        var product = await new ProductService(client).CreateAsync(new ProductCreateOptions { Name = "Pro" });
        var plan = await new PriceService(client).CreateAsync(new PriceCreateOptions
        {
            Product = product.Id,
            Currency = "usd",
            UnitAmount = 2000,
            Recurring = new PriceRecurringOptions { Interval = "month" },
        });
        var meter = await new Stripe.Billing.MeterService(client).CreateAsync(new Stripe.Billing.MeterCreateOptions
        {
            DisplayName = "Tokens",
            EventName = MeterEventName,
            DefaultAggregation = new Stripe.Billing.MeterDefaultAggregationOptions { Formula = "sum" },
        });
        var tokenProduct = await new ProductService(client).CreateAsync(new ProductCreateOptions { Name = "Tokens beyond the plan" });
        var tokens = await new PriceService(client).CreateAsync(new PriceCreateOptions
        {
            Product = tokenProduct.Id,
            Currency = "usd",
            UnitAmount = 2,
            Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meter.Id },
        });
        return new TestCatalog(plan, tokens, meter);
    }

    public Task<Session> CheckoutAsync(StripeClient client, string userId, string email) =>
        new SessionService(client).CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            ClientReferenceId = userId,
            CustomerEmail = email,
            SuccessUrl = "http://app.test/billing?session={CHECKOUT_SESSION_ID}",
            CancelUrl = "http://app.test/billing",
            LineItems = [new SessionLineItemOptions { Price = Plan.Id, Quantity = 1 }, new SessionLineItemOptions { Price = Tokens.Id }],
        });

    /// <summary>Submits the pay page's form as a browser would.</summary>
    public static Task<HttpResponseMessage> PayAsync(HttpClient http, Session session, string card) =>
        http.PostAsync(new Uri(session.Url).PathAndQuery, new FormUrlEncodedContent([new("card", card)]));
}
