namespace ChatBlazor.Inference.Tests.Chat;

/// <summary>Whitespace handling as transformers configures Jinja2: trim_blocks, lstrip_blocks, no trailing newline.</summary>
public sealed class JinjaWhitespaceTests
{
    [Fact]
    public void TrimBlocksRemovesTheNewlineAfterABlockTag()
    {
        Assert.Equal("yes\nafter", Fixtures.Render("{% if true %}\nyes\n{% endif %}\nafter"));
    }

    [Fact]
    public void LstripBlocksRemovesTheIndentationBeforeABlockTag()
    {
        var template = "<ul>\n    {% for x in ['a', 'b'] %}\n    <li>{{ x }}</li>\n    {% endfor %}\n</ul>";

        Assert.Equal("<ul>\n    <li>a</li>\n    <li>b</li>\n</ul>", Fixtures.Render(template));
    }

    [Fact]
    public void LstripBlocksLeavesTextBeforeATagOnTheSameLine()
    {
        Assert.Equal("a b c", Fixtures.Render("a {% if true %}b{% endif %}\n c"));
    }

    [Fact]
    public void VariableTagsKeepTheirIndentation()
    {
        Assert.Equal("    v", Fixtures.Render("    {{ 'v' }}\n"));
    }

    [Fact]
    public void MinusOnABlockTagStripsAllWhitespaceOnThatSide()
    {
        Assert.Equal("abc", Fixtures.Render("a  \n  {%- if true -%}  \n  b  \n  {%- endif -%}\n  c"));
    }

    [Fact]
    public void MinusOnAVariableTagStripsNewlinesToo()
    {
        Assert.Equal("x|y|z", Fixtures.Render("x\n   {{- '|y|' -}}\n\n   z"));
    }

    [Fact]
    public void PlusOnABlockStartKeepsItsIndentation()
    {
        Assert.Equal("  x", Fixtures.Render("  {%+ if true %}x{% endif %}"));
    }

    [Fact]
    public void PlusOnABlockEndKeepsTheFollowingNewline()
    {
        Assert.Equal("\nx", Fixtures.Render("{% if true +%}\nx{% endif %}"));
    }

    [Fact]
    public void CommentsRenderNothingAndTrimLikeBlocks()
    {
        Assert.Equal("a\nb|c", Fixtures.Render("a\n  {# a note #}\nb  {#- stripped -#}  |c"));
    }

    [Fact]
    public void OneTrailingNewlineOfTheTemplateIsDropped()
    {
        Assert.Equal("x\n", Fixtures.Render("x\n\n"));
    }

    [Fact]
    public void WindowsNewlinesAreNormalised()
    {
        Assert.Equal("a\nb", Fixtures.Render("a\r\n{% if true %}\r\nb{% endif %}"));
    }
}
