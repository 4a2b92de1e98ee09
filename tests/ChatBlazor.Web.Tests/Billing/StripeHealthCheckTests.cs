using ChatBlazor.Web.Health;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Stripe;

namespace ChatBlazor.Web.Tests.Billing;

/// <summary>The Stripe health check against the emulator: up, a refused key, and nothing listening.</summary>
public class StripeHealthCheckTests
{
    private static Task<HealthCheckResult> CheckAsync(StripeClient client) =>
        new StripeHealthCheck(client).CheckHealthAsync(new HealthCheckContext());

    [Fact]
    public async Task HealthyWhenStripeAnswersWithTheKeyAccepted()
    {
        await using var emulator = await EmulatorServer.StartAsync();

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync(emulator.Client)).Status);
    }

    [Fact]
    public async Task UnhealthyNamingTheKeyWhenStripeRefusesIt()
    {
        await using var emulator = await EmulatorServer.StartAsync();
        var wrongKey = new StripeClient(new StripeClientOptions { ApiKey = "sk_test_not_the_emulators", ApiBase = emulator.Url });

        var result = await CheckAsync(wrongKey);

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("Stripe refused the secret key", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnhealthyWhenNothingAnswers()
    {
        var result = await CheckAsync(EmulatorServer.Unreachable());

        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.StartsWith("Stripe is unreachable", result.Description, StringComparison.Ordinal);
    }
}
