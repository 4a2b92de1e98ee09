using Bunit;
using ChatBlazor.Web.Chat;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

namespace ChatBlazor.Web.Tests.Chat;

public class ComposerTests : BunitContext
{
    public ComposerTests()
    {
        Services.AddMudServices();
        Services.AddSingleton(TimeProvider.System);
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    [Fact]
    public void TheBoxIsNotBoundSoTypingSendsNothingToTheServer()
    {
        var composer = Render<Composer>(p => p.Add(c => c.OnSend, _ => Task.FromResult(true)));

        var box = composer.Find("[data-testid=chat-input]");

        // A Blazor binding would show as an event handler on the element and carry the whole text on every keystroke.
        Assert.DoesNotContain(box.Attributes, a => a.Name.StartsWith("blazor:on", StringComparison.Ordinal));
        JSInterop.VerifyInvoke("chatBlazor.bindComposer");
    }

    [Fact]
    public async Task TheTextIsSentOnceAndTheBoxEmptiesOnlyWhenItWasTaken()
    {
        var sent = new List<string>();
        var taken = false;
        var composer = Render<Composer>(p => p.Add(c => c.OnSend, text => { sent.Add(text); return Task.FromResult(taken); }));

        await composer.InvokeAsync(() => composer.Instance.SendTextAsync("kept: refused by the page"));
        taken = true;
        await composer.InvokeAsync(() => composer.Instance.SendTextAsync("taken"));

        Assert.Equal(["kept: refused by the page", "taken"], sent);
        Assert.Single(JSInterop.Invocations, i => i.Identifier == "chatBlazor.clearComposer");
    }

    [Fact]
    public async Task TooLongTextIsReportedWithItsLength()
    {
        string? error = null;
        var composer = Render<Composer>(p => p
            .Add(c => c.OnSend, _ => Task.FromResult(true))
            .Add(c => c.OnTooLong, (string message) => error = message));

        await composer.InvokeAsync(() => composer.Instance.TooLongAsync(123_456));

        Assert.Contains("123,456 characters", error);
        Assert.Contains("at most 100,000", error);
    }
}
