using ChatBlazor.StripeEmulator.Model;
using Microsoft.Extensions.Options;
using Stripe;

namespace ChatBlazor.StripeEmulator.Tests;

/// <summary>What the emulator checks when it starts, and the version it stamps on events.</summary>
public sealed class StartupTests
{
    [Fact]
    public void EventsCarryTheApiVersionStripeNetIsPinnedTo()
    {
        // ConstructEvent refuses events of another version: an upgrade of Stripe.net must update the emulator too.
        Assert.Equal(EmulatorStore.ApiVersion, StripeConfiguration.ApiVersion);
    }

    [Fact]
    public async Task AWebhookUrlWithoutASecretFailsAtStartNamingTheKey()
    {
        await using var app = EmulatorApp.Build(
            ["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", "--Emulator:WebhookUrl=http://127.0.0.1:9/hook"]);

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains("Emulator:WebhookSecret", error.Message);
    }
}
