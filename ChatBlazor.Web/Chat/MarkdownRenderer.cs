using Ganss.Xss;
using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;

namespace ChatBlazor.Web.Chat;

/// <summary>
/// A message's Markdown as HTML that is safe to put in the page. Two locks, because model output and user input are
/// both untrusted: Markdig escapes raw HTML instead of passing it through, and the sanitizer then keeps only
/// harmless elements, attributes and link schemes (http, https, mailto), whatever Markdown syntax produced them.
/// </summary>
public static class MarkdownRenderer
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UsePipeTables().UseGridTables().UseEmphasisExtras().UseTaskLists().UseAutoLinks().UseFootnotes()
        .DisableHtml()
        .Use<HighlightedCode>()
        .Build();

    private static readonly HtmlSanitizer Sanitizer = CreateSanitizer();

    public static string ToHtml(string markdown)
    {
        var html = Sanitizer.Sanitize(Markdown.ToHtml(markdown, Pipeline));
        // After sanitizing, every "<pre>" left is a real code block (text would be "&lt;pre&gt;"): give each a copy
        // button, which wwwroot/app.js handles.
        return html.Replace("<pre>", "<div class=\"code-block\"><button type=\"button\" class=\"copy-code\" data-testid=\"copy-code\" title=\"Copy code\">Copy</button><pre>", StringComparison.Ordinal)
            .Replace("</pre>", "</pre></div>", StringComparison.Ordinal);
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
