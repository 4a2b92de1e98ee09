using System.Collections.Frozen;
using Ganss.Xss;
using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// A message's Markdown as HTML that is safe to put in the page. Two locks, because model output and user input are
/// both untrusted: Markdig escapes raw HTML instead of passing it through, and the sanitizer then keeps only
/// harmless elements, attributes and link schemes (http, https, mailto), whatever Markdown syntax produced them.
/// Images load nothing from elsewhere unless their host is allowed: a reply could otherwise hold a tracking pixel,
/// or an image whose URL carries the conversation to a third party the moment the reply is shown.
/// </summary>
public static class MarkdownRenderer
{
    /// <summary>
    /// The hosts whose https images <see cref="ToHtml(string)"/> shows inline (Chat:ImageHosts); empty shows none.
    /// Set once at start from configuration (<see cref="ChatExtensions.MapChat"/>), because components render
    /// Markdown through the static call; code that needs other hosts passes them to the overload.
    /// </summary>
    public static IReadOnlySet<string> ImageHosts { get; internal set; } = FrozenSet<string>.Empty;

    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables().UseGridTables().UseEmphasisExtras().UseTaskLists().UseAutoLinks().UseFootnotes()
        .DisableHtml()
        .Use<HighlightedCode>()
        .Build();

    private static readonly HtmlSanitizer Sanitizer = CreateSanitizer();

    public static string ToHtml(string markdown) => ToHtml(markdown, ImageHosts);

    /// <param name="imageHosts">Hosts whose https images stay images; every other image becomes a link to its URL.</param>
    public static string ToHtml(string markdown, IReadOnlySet<string> imageHosts)
    {
        var document = Markdown.Parse(markdown, Pipeline);
        foreach (var image in document.Descendants<LinkInline>().Where(l => l.IsImage && !IsAllowed(l.Url, imageHosts)).ToList())
            ImageToLink(image);
        var html = Sanitizer.Sanitize(Markdown.ToHtml(document, Pipeline));
        // After sanitizing, every "<pre>" left is a real code block (text would be "&lt;pre&gt;"): give each a copy
        // button, which wwwroot/app.js handles.
        return html.Replace("<pre>", "<div class=\"code-block\"><button type=\"button\" class=\"copy-code\" data-testid=\"copy-code\" title=\"Copy code\">Copy</button><pre>", StringComparison.Ordinal)
            .Replace("</pre>", "</pre></div>", StringComparison.Ordinal);
    }

    private static bool IsAllowed(string? url, IReadOnlySet<string> imageHosts) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps
        && imageHosts.Any(host => string.Equals(host, uri.IdnHost, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The image becomes a link to its URL with its alt text as the text (the URL when it has none), so a reader
    /// sees what it was and can open it on purpose. Inside a link, where a link cannot go, only that text stays.
    /// </summary>
    private static void ImageToLink(LinkInline image)
    {
        var alt = string.Concat(image.Descendants<LiteralInline>().Select(l => l.Content.ToString()));
        var text = alt.Trim().Length > 0 ? alt : image.Url ?? "";
        for (var parent = image.Parent; parent is not null; parent = parent.Parent)
        {
            if (parent is LinkInline)
            {
                image.ReplaceBy(new LiteralInline(text), copyChildren: false);
                return;
            }
        }
        image.IsImage = false;
        if (alt.Trim().Length == 0)
        {
            image.Clear();
            image.AppendChild(new LiteralInline(text));
        }
    }

    private static HtmlSanitizer CreateSanitizer()
    {
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Clear();
        sanitizer.AllowedSchemes.UnionWith(["http", "https", "mailto"]);
        sanitizer.AllowedAttributes.Add("class"); // language-xxx on code, for highlighting
        sanitizer.AllowedTags.Remove("form");
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is AngleSharp.Dom.IElement element)
            {
                if (element.LocalName == "a")
                {
                    element.SetAttribute("target", "_blank");
                    element.SetAttribute("rel", "noopener noreferrer nofollow");
                }
                else if (element.LocalName == "input") // task-list checkboxes
                {
                    element.SetAttribute("disabled", "");
                }
            }
        };
        return sanitizer;
    }

    /// <summary>Code blocks through <see cref="CodeHighlighter"/> instead of Markdig's plain encoding.</summary>
    private sealed class HighlightedCode : HtmlObjectRenderer<CodeBlock>, IMarkdownExtension
    {
        public void Setup(MarkdownPipelineBuilder pipeline) { }

        public void Setup(MarkdownPipeline pipeline, IMarkdownRenderer renderer)
        {
            if (renderer is HtmlRenderer html)
                html.ObjectRenderers.Replace<CodeBlockRenderer>(this);
        }

        protected override void Write(HtmlRenderer renderer, CodeBlock block)
        {
            var language = (block as FencedCodeBlock)?.Info;
            renderer.EnsureLine();
            renderer.Write("<pre><code");
            if (!string.IsNullOrWhiteSpace(language))
                renderer.Write(" class=\"language-").WriteEscape(language).Write('"');
            renderer.Write('>');
            renderer.Write(CodeHighlighter.ToHtml(block.Lines.ToString() + "\n", language));
            renderer.WriteLine("</code></pre>");
        }
    }
}
