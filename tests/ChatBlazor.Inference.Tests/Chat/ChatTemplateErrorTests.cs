using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

public sealed class ChatTemplateErrorTests
{
    [Fact]
    public void MissingOperandIsReportedAtItsLineAndColumn()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromString("Hello {{ name + }} world"));

        Assert.Equal("Expected an expression but found end of tag '}}'. (line 1, column 17)", error.Message);
        Assert.Equal(1, error.Line);
        Assert.Equal(17, error.Column);
    }

    [Fact]
    public void UnterminatedStringIsReportedOnItsOwnLine()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromString("a\nb\n  {{ 'unterminated }}"));

        Assert.Equal("The string literal is never closed. (line 3, column 6)", error.Message);
    }

    [Fact]
    public void UnclosedBlockNamesTheTagThatNeedsClosing()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromString("line one\n{% if true %}\nbody"));

        Assert.Equal("Unexpected end of template: '{% if %}' opened at line 2, column 4 needs '{% endif %}'. (line 2, column 4)", error.Message);
    }

    [Fact]
    public void UnclosedTagIsReported()
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromString("x {{ 1 + 2"));

        Assert.Equal("The tag '{{' is never closed: '}}' is missing. (line 1, column 3)", error.Message);
    }

    [Theory]
    [InlineData("{% frobnicate %}", "Unknown tag 'frobnicate'. (line 1, column 4)")]
    [InlineData("{% endif %}", "'{% endif %}' has no matching opening tag. (line 1, column 4)")]
    [InlineData("{% break %}", "'{% break %}' is only allowed inside a for loop. (line 1, column 4)")]
    [InlineData("{# never closed", "The comment is never closed: '#}' is missing. (line 1, column 1)")]
    public void MalformedTagsAreSyntaxErrors(string template, string message)
    {
        var error = Assert.Throws<ChatTemplateException>(() => ChatTemplate.FromString(template));

        Assert.Equal(message, error.Message);
        Assert.False(error.RaisedByTemplate);
    }

    [Fact]
    public void RaiseExceptionSurfacesTheTemplatesMessageUnchanged()
    {
        var template = ChatTemplate.FromString("{% if messages|length == 0 %}{{ raise_exception('No messages given!') }}{% endif %}");

        var error = Assert.Throws<ChatTemplateException>(() => template.Render([], addGenerationPrompt: false));

        Assert.Equal("No messages given!", error.Message);
        Assert.True(error.RaisedByTemplate);
        Assert.Equal((1, 33), (error.Line, error.Column));
    }
}
