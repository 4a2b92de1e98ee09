using ChatBlazor.Web.Chat;

namespace ChatBlazor.Web.Tests.Chat;

public sealed class CodeHighlighterTests
{
    [Theory]
    [InlineData("csharp", "var x = \"hi\"; // note",
        "<span class=\"tok-kw\">var</span> x = <span class=\"tok-str\">&quot;hi&quot;</span>; <span class=\"tok-com\">// note</span>")]
    [InlineData("python", "def f():\n    return None  # done",
        "<span class=\"tok-kw\">def</span> f():\n    <span class=\"tok-kw\">return</span> <span class=\"tok-lit\">None</span>  <span class=\"tok-com\"># done</span>")]
    [InlineData("py", "s = '''a\n'b'''' + x1",
        "s = <span class=\"tok-str\">&#39;&#39;&#39;a\n&#39;b&#39;&#39;&#39;</span><span class=\"tok-str\">&#39; + x1</span>")]
    [InlineData("sql", "SELECT id FROM t WHERE n > 42",
        "<span class=\"tok-kw\">SELECT</span> id <span class=\"tok-kw\">FROM</span> t <span class=\"tok-kw\">WHERE</span> n &gt; <span class=\"tok-num\">42</span>")]
    [InlineData("bash", "echo $# # count",
        "<span class=\"tok-kw\">echo</span> $# <span class=\"tok-com\"># count</span>")]
    [InlineData("js", "/* a */ let t = `x\ny` + abc123 + 0x1F;",
        "<span class=\"tok-com\">/* a */</span> <span class=\"tok-kw\">let</span> t = <span class=\"tok-str\">`x\ny`</span> + abc123 + <span class=\"tok-num\">0x1F</span>;")]
    [InlineData("json", "{\"a\": [1.5, true]}",
        "{<span class=\"tok-str\">&quot;a&quot;</span>: [<span class=\"tok-num\">1.5</span>, <span class=\"tok-lit\">true</span>]}")]
    public void ColoursKeywordsStringsCommentsNumbersAndLiterals(string language, string code, string expected) =>
        Assert.Equal(expected, CodeHighlighter.ToHtml(code, language));

    [Theory]
    [InlineData(null)]
    [InlineData("brainfuck")]
    public void AnUnknownLanguageIsOnlyEncoded(string? language) =>
        Assert.Equal("if &lt;script&gt; &amp; &quot;x&quot;", CodeHighlighter.ToHtml("if <script> & \"x\"", language));

    [Fact]
    public void MarkupInsideCodeStaysText()
    {
        var html = CodeHighlighter.ToHtml("const s = \"<img src=x onerror=alert(1)>\"; // </code><script>", "js");

        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<script", html);
        Assert.Contains("&lt;img src=x onerror=alert(1)&gt;", html);
    }

    [Fact]
    public void AnUnclosedStringOrCommentRunsToTheEndWithoutLosingText()
    {
        Assert.Equal("<span class=\"tok-str\">&quot;abc</span>\nx", CodeHighlighter.ToHtml("\"abc\nx", "c"));
        Assert.Equal("<span class=\"tok-com\">/* never closed\nx</span>", CodeHighlighter.ToHtml("/* never closed\nx", "c"));
    }
}
