using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

public sealed class JinjaStatementTests
{
    [Fact]
    public void LoopExposesIndexFirstLastAndLength()
    {
        var template = "{% for x in ['a', 'b', 'c'] %}{{ x }}:{{ loop.index0 }}/{{ loop.index }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.revindex }} {% endfor %}";

        Assert.Equal("a:0/1/True/False/3/3 b:1/2/False/False/3/2 c:2/3/False/True/3/1 ", Fixtures.Render(template));
    }

    [Fact]
    public void LoopSeesNeighbouringItems()
    {
        var template = "{% for x in [1, 2, 3] %}{{ loop.previtem|default('-') }}{{ x }}{{ loop.nextitem|default('-') }} {% endfor %}";

        Assert.Equal("-12 123 23- ", Fixtures.Render(template));
    }

    [Fact]
    public void LoopElseRunsOnlyWhenNothingWasIterated()
    {
        Assert.Equal("empty|1", Fixtures.Render("{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}"));
    }

    [Fact]
    public void LoopFilterSkipsItemsAndLoopCountsOnlyTheKeptOnes()
    {
        Assert.Equal("0,2,4", Fixtures.Render("{% for x in range(6) if x is even %}{{ x }}{{ ',' if not loop.last }}{% endfor %}"));
    }

    [Fact]
    public void BreakAndContinueControlTheLoop()
    {
        var template = "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}";

        Assert.Equal("013", Fixtures.Render(template));
    }

    [Fact]
    public void LoopUnpacksDictItems()
    {
        Assert.Equal("a=1;b=2;", Fixtures.Render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"));
    }

    [Fact]
    public void LoopOverMessagesReadsRoleAndContent()
    {
        var output = Fixtures.Render("{% for m in messages %}{{ m.role }}={{ m['content'] }};{% endfor %}", new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"));

        Assert.Equal("user=hi;assistant=yo;", output);
    }

    [Fact]
    public void IfElifElsePicksTheFirstTrueBranch()
    {
        var template = "{% for n in [1, 2, 3] %}{% if n == 1 %}one{% elif n == 2 %}two{% else %}many{% endif %} {% endfor %}";

        Assert.Equal("one two many ", Fixtures.Render(template));
    }

    [Fact]
    public void SetInsideALoopDoesNotOutliveTheIteration()
    {
        Assert.Equal("11 11 1", Fixtures.Render("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}"));
    }

    [Fact]
    public void SetInsideAnIfIsVisibleAfterIt()
    {
        Assert.Equal("kept", Fixtures.Render("{% if true %}{% set y = 'kept' %}{% endif %}{{ y }}"));
    }

    [Fact]
    public void NamespaceAttributesCarryValuesOutOfALoop()
    {
        var template = "{% set ns = namespace(found=false, count=0) %}"
            + "{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}{% endif %}{% set ns.count = ns.count + 1 %}{% endfor %}"
            + "{{ ns.found }} {{ ns.count }}";

        Assert.Equal("True 4", Fixtures.Render(template, Conversations.WithSystem));
    }

    [Fact]
    public void NamespaceStartsWithTheGivenValues()
    {
        Assert.Equal("1 [] none", Fixtures.Render("{% set ns = namespace(x=1, items=[]) %}{{ ns.x }} {{ ns.items }} {{ ns.missing|default('none') }}"));
    }

    [Fact]
    public void SettingAnAttributeOnANonNamespaceFails()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{% set d = {} %}{% set d.x = 1 %}"));

        Assert.Contains("only namespace objects", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SetBlockCapturesRenderedText()
    {
        Assert.Equal("[Hello world]", Fixtures.Render("{% set greeting %}Hello {{ 'world' }}{% endset %}[{{ greeting }}]"));
    }

    [Fact]
    public void SetUnpacksATuple()
    {
        Assert.Equal("12", Fixtures.Render("{% set a, b = 1, 2 %}{{ a }}{{ b }}"));
    }

    [Fact]
    public void MacrosTakePositionalKeywordAndDefaultArguments()
    {
        var template = "{% macro tag(name, value='x') %}<{{ name }}={{ value }}>{% endmacro %}{{ tag('a') }}{{ tag('b', value='y') }}{{ tag('c', 'z') }}";

        Assert.Equal("<a=x><b=y><c=z>", Fixtures.Render(template));
    }

    [Fact]
    public void GenerationTagRendersItsBody()
    {
        Assert.Equal("<answer>", Fixtures.Render("<{% generation %}answer{% endgeneration %}>"));
    }
}
