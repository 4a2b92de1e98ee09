using ChatBlazor.Web.Chat;

namespace ChatBlazor.Web.Tests.Chat;

public sealed class StreamingMarkdownTests
{
    /// <summary>Feeds the text as a stream would: a few characters per update.</summary>
    private static StreamingMarkdown Streamed(string text, int step = 3)
    {
        var markdown = new StreamingMarkdown();
        for (var i = 0; i < text.Length; i += step)
            markdown.Apply(i, text.Substring(i, Math.Min(step, text.Length - i)));
        return markdown;
    }

    private static string Shown(StreamingMarkdown markdown) => string.Concat(markdown.Blocks) + markdown.Tail;

    [Fact]
    public void AFinishedParagraphIsRenderedOnceAndOnlyTheOpenBlockAgain()
    {
        var markdown = new StreamingMarkdown();
        markdown.Apply(0, "The first **point**.\n\nThe sec");
        var first = Assert.Single(markdown.Blocks);

        markdown.Apply(markdown.Length, "ond point, still");
        markdown.Apply(markdown.Length, " growing.");

        Assert.Same(first, Assert.Single(markdown.Blocks)); // the same string: nothing re-rendered, nothing to redraw
        Assert.Equal("<p>The first <strong>point</strong>.</p>\n", first);
        Assert.Equal("<p>The second point, still growing.</p>\n", markdown.Tail);
    }

    [Theory]
    [InlineData("Paragraph one.\n\nParagraph two has *emphasis*.\n\n## A heading\n\nAnd a last one.")]
    [InlineData("Some code:\n\n```csharp\nvar a = 1;\n\nvar b = 2;\n```\n\nAfter the code.")]
    [InlineData("- one\n- two\n\n- three, loose\n\nAfter the list.\n\n1. first\n\n2. second")]
    [InlineData("| a | b |\n|---|---|\n| 1 | 2 |\n\nUnder the table.\n\n> quoted\n\n    indented code\n\nEnd.")]
    public void WhatStreamsInBlocksRendersAsTheWholeReplyDoes(string text)
    {
        foreach (var step in new[] { 1, 4, 17 })
            Assert.Equal(MarkdownRenderer.ToHtml(text), Shown(Streamed(text, step)));
    }

    [Fact]
    public void ACodeFenceIsNeverCutAtTheBlankLinesInsideIt()
    {
        var markdown = Streamed("```\nline one\n\nline two\n\nline three\n```\n\nnext");

        var code = Assert.Single(markdown.Blocks);
        Assert.Contains("line one\n\nline two\n\nline three", code);
        Assert.Contains("<pre>", code);
    }

    [Fact]
    public void AListIsNotCutWhereItContinues()
    {
        var markdown = Streamed("- alpha\n\n- beta\n\n  more of beta\n\nDone.\n\n");

        Assert.Single(markdown.Blocks, block => block.Contains("<ul>", StringComparison.Ordinal));
        Assert.Contains("more of beta", markdown.Blocks[0]);
    }

    [Fact]
    public void AnUpdateThatRewritesFinishedTextStartsTheBlocksOver()
    {
        var markdown = Streamed("One.\n\nTwo.\n\nThree is being writ");

        markdown.Apply(6, "Rewritten.\n\nNow"); // a resumed reply replaces what the dead run streamed after its last save

        Assert.Equal("One.\n\nRewritten.\n\nNow", markdown.Text);
        Assert.Equal(MarkdownRenderer.ToHtml(markdown.Text), Shown(markdown));
    }

    [Fact]
    public void EveryUpdateChangesTheVersion()
    {
        var markdown = new StreamingMarkdown();
        markdown.Apply(0, "a");
        var version = markdown.Version;

        markdown.Apply(1, "b");

        Assert.NotEqual(version, markdown.Version);
    }
}
