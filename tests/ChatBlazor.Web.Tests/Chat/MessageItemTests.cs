using Bunit;
using ChatBlazor.Core.Completions;
using ChatBlazor.Core.Conversations;
using ChatBlazor.Web.Chat;
using MudBlazor.Services;

namespace ChatBlazor.Web.Tests.Chat;

public class MessageItemTests : BunitContext
{
    public MessageItemTests()
    {
        Services.AddMudServices();
        JSInterop.Mode = JSRuntimeMode.Loose;
    }

    private static Message Reply(CompletionStatus status, string content = "**Hi** there") => new()
    {
        Role = MessageRole.Assistant, Content = content, Status = status, Model = "mini",
        CompletionTokens = 12, TimeToFirstTokenMs = 85, TokensPerSecond = 41.5,
    };

    [Fact]
    public void AFinishedReplyShowsItsMarkdownStatusFigureFooterAndActions()
    {
        var item = Render<MessageItem>(p => p.Add(m => m.Message, Reply(CompletionStatus.Complete)));

        var root = item.Find("[data-testid=message-assistant]");
        Assert.Equal("complete", root.GetAttribute("data-status"));
        Assert.Equal("Hi", item.Find(".markdown strong").TextContent);
        Assert.Equal("mini · 12 tokens · first token 85 ms · 41.5 tokens/s", item.Find("[data-testid=message-footer]").TextContent);
        Assert.NotEmpty(item.FindAll("[data-testid=regenerate-button]"));
        Assert.NotEmpty(item.FindAll("[data-testid=feedback-up]"));
        Assert.Empty(item.FindAll("[data-testid=sibling-prev]")); // one version only
    }

    [Fact]
    public void AHiddenMessageShowsTheModeratorsNoticeInsteadOfItsTextAndNoActions()
    {
        var hidden = Reply(CompletionStatus.Complete, "the secret text");
        hidden.HiddenAt = DateTimeOffset.UtcNow;
        hidden.HiddenReason = "It shared someone's address.";

        var item = Render<MessageItem>(p => p.Add(m => m.Message, hidden));

        Assert.Equal("This message was hidden by a moderator: It shared someone's address.", item.Find("[data-testid=message-hidden]").TextContent);
        Assert.DoesNotContain("the secret text", item.Markup, StringComparison.Ordinal);
        Assert.Empty(item.FindAll("[data-testid=copy-button]"));
        Assert.Empty(item.FindAll("[data-testid=regenerate-button]"));
    }

    [Fact]
    public void AStreamingReplyOffersNoRegenerateAndAFailedOneSaysWhy()
    {
        var streaming = Render<MessageItem>(p => p.Add(m => m.Message, Reply(CompletionStatus.Streaming, "")));
        Assert.Empty(streaming.FindAll("[data-testid=regenerate-button]"));
        Assert.NotEmpty(streaming.FindAll(".mud-progress-linear"));

        var failed = Reply(CompletionStatus.Failed, "partial");
        failed.Error = "The model is busy right now. Try again in a moment.";
        var item = Render<MessageItem>(p => p.Add(m => m.Message, failed));
        Assert.Contains("The model is busy right now.", item.Find(".mud-alert").TextContent);
        Assert.Equal("failed", item.Find("[data-testid=message-assistant]").GetAttribute("data-status"));
    }

    [Fact]
    public void SiblingArrowsShowThePositionAndReportTheStep()
    {
        var steps = new List<int>();
        var item = Render<MessageItem>(p => p
            .Add(m => m.Message, Reply(CompletionStatus.Complete))
            .Add(m => m.SiblingIndex, 1).Add(m => m.SiblingCount, 3)
            .Add(m => m.OnSibling, (int step) => steps.Add(step)));

        Assert.Equal("2/3", item.Find("[data-testid=sibling-position]").TextContent);
        item.Find("[data-testid=sibling-prev]").Click();
        item.Find("[data-testid=sibling-next]").Click();
        Assert.Equal([-1, 1], steps);
    }

    [Fact]
    public void AUserMessageIsPlainTextAndCanBeEditedIntoANewBranch()
    {
        (Message Message, string Content)? edited = null;
        var message = new Message { Role = MessageRole.User, Content = "<b>not bold</b>" };
        var item = Render<MessageItem>(p => p.Add(m => m.Message, message).Add(m => m.OnEdit, ((Message, string) e) => edited = e));

        Assert.Equal("<b>not bold</b>", item.Find(".message-text").TextContent);
        Assert.Empty(item.FindAll(".message-text b"));
        item.Find("[data-testid=edit-button]").Click();
        item.Find("[data-testid=edit-input] textarea, textarea[data-testid=edit-input]").Change("fixed");
        item.Find("[data-testid=edit-save]").Click();
        Assert.Equal((message, "fixed"), edited);
    }
}
