using System.Net;
using ChatBlazor.Testing;
using ChatBlazor.Web.Billing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>Stripe's settings: a wrong one stops the start naming its key; none at all turns billing off.</summary>
public class StripeOptionsTests
{
    private static async Task<OptionsValidationException> StartFailsAsync(params (string Key, string Value)[] settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        foreach (var (key, value) in settings)
            builder.Configuration[key] = value;
        builder.AddBilling();
        await using var app = builder.Build();
        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }

    [Theory]
    [InlineData("Stripe:WebhookSecret", "sk_test_1", "", null, null)]
    [InlineData("Stripe:SecretKey", "pk_test_1", "whsec_1", null, null)]
    [InlineData("Stripe:ApiBase", "sk_test_1", "whsec_1", "127.0.0.1:12111", null)]
    [InlineData("Stripe:PaymentGracePeriod", "sk_test_1", "whsec_1", null, "-1.00:00:00")]
    public async Task ABadStripeSettingFailsAtStartNamingTheKey(string key, string secretKey, string webhookSecret, string? apiBase, string? grace)
    {
        var error = await StartFailsAsync(("Stripe:SecretKey", secretKey), ("Stripe:WebhookSecret", webhookSecret),
            ("Stripe:ApiBase", apiBase ?? ""), ("Stripe:PaymentGracePeriod", grace ?? "7.00:00:00"));

        Assert.Contains(key, error.Message);
    }

    public sealed class BillingOff : AppFactory;

    [Fact]
    public async Task WithoutASecretKeyBillingIsOffAndNoWebhookIsServed()
    {
        var app = new BillingOff();
        try
        {
            await app.InitializeAsync();
            using var response = await app.CreateClient().PostAsync(StripeWebhook.Path, new StringContent("{}"));

            // The pages' catch-all answers the POST (with a 400 of its own); the webhook's route does not exist.
            Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain("Stripe-Signature", await response.Content.ReadAsStringAsync());
            var routes = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().Select(e => e.RoutePattern.RawText);
            Assert.DoesNotContain(StripeWebhook.Path, routes);
        }
        finally
        {
            await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}
