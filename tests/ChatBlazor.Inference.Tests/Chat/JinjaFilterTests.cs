namespace ChatBlazor.Inference.Tests.Chat;

public sealed class JinjaFilterTests
{
    [Fact]
    public void TextFiltersTrimAndChangeCase()
    {
        var template = "{{ '  pad  '|trim }}|{{ 'xxhixx'|trim('x') }}|{{ 'Hi'|upper }}{{ 'Hi'|lower }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'hello world-wide'|title }}";

        Assert.Equal("pad|hi|HIhi|Hello world|Hello World-Wide", Fixtures.Render(template));
    }

    [Fact]
    public void FilterBindsTighterThanPlus()
    {
        Assert.Equal("[x]", Fixtures.Render("{{ '[' + '  x  ' | trim + ']' }}"));
    }

    [Fact]
    public void SequenceFiltersSortJoinAndPick()
    {
        var template = "{{ [3, 1, 2]|sort|join(',') }} {{ [3, 1, 2]|sort(reverse=true)|first }} {{ [3, 1, 2]|last }} {{ 'abc'|length }} {{ [1, 2, 2, 3]|unique|list }} {{ [4, 2, 9]|min }} {{ [4, 2, 9]|max }} {{ [1, 2, 3]|sum }} {{ 'abc'|reverse }}";

        Assert.Equal("1,2,3 3 2 3 [1, 2, 3] 2 9 6 cba", Fixtures.Render(template));
    }

    [Fact]
    public void ReplaceHonoursTheCount()
    {
        Assert.Equal("a+b+c a+b-c", Fixtures.Render("{{ 'a-b-c'|replace('-', '+') }} {{ 'a-b-c'|replace('-', '+', 1) }}"));
    }

    [Fact]
    public void ItemsAndDictsortTurnAMappingIntoPairs()
    {
        Assert.Equal("[('b', 1), ('a', 2)] [('a', 2), ('b', 1)]", Fixtures.Render("{{ {'b': 1, 'a': 2}|items|list }} {{ {'b': 1, 'a': 2}|dictsort }}"));
    }

    [Fact]
    public void DefaultReplacesUndefinedAndWithBooleanAlsoFalsyValues()
    {
        Assert.Equal("d|empty||0", Fixtures.Render("{{ nothing|default('d') }}|{{ ''|default('empty', true) }}|{{ ''|default('empty') }}|{{ 0|d(5) }}"));
    }

    [Fact]
    public void SelectattrAndMapPickFieldsOfMessages()
    {
        var template = "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|join(' / ') }}|{{ messages|rejectattr('role', 'in', ['user', 'system'])|map(attribute='role')|list }}";

        Assert.Equal("Hello! / What is 2 + 2? |['assistant']", Fixtures.Render(template, Conversations.WithSystem));
    }

    [Fact]
    public void NumberFiltersConvertAndRound()
    {
        Assert.Equal("43 2.5 3x 3 2.57 2.0 3 7", Fixtures.Render("{{ '42'|int + 1 }} {{ '2.5'|float }} {{ 3|string ~ 'x' }} {{ -3|abs }} {{ 2.567|round(2) }} {{ 2.5|round }} {{ 3|round }} {{ 'x'|int(7) }}"));
    }

    [Fact]
    public void TojsonWritesPythonStyleJsonWithoutEscapingUnicodeOrHtml()
    {
        var template = "{{ {'name': 'get_weather', 'args': {'city': 'Zürich <b>', 'days': 3, 'metric': true, 'note': none, 'ratio': 0.5}}|tojson }}";

        Assert.Equal("{\"name\": \"get_weather\", \"args\": {\"city\": \"Zürich <b>\", \"days\": 3, \"metric\": true, \"note\": null, \"ratio\": 0.5}}", Fixtures.Render(template));
    }

    [Fact]
    public void TojsonIndentsLikePythonJsonDumps()
    {
        Assert.Equal("{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}", Fixtures.Render("{{ {'a': [1, 2], 'b': {}}|tojson(indent=2) }}"));
    }

    [Fact]
    public void TojsonEscapesQuotesAndControlCharacters()
    {
        Assert.Equal("\"say \\\"hi\\\"\\n\\u0001\"", Fixtures.Render("{{ 'say \"hi\"\\n\\x01'|tojson }}"));
    }

    [Fact]
    public void TojsonSortsKeysWhenAsked()
    {
        Assert.Equal("{\"a\": 2, \"b\": 1}", Fixtures.Render("{{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }}"));
    }

    [Fact]
    public void StringMethodsBehaveLikePython()
    {
        var template = "{{ '  x  '.strip() }}|{{ 'xxy'.lstrip('x') }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'hello'.startswith('he') }}"
            + "|{{ 'hello'.endswith(('lo', 'x')) }}|{{ 'Hello'.upper() }}|{{ 'a-b'.replace('-', '') }}|{{ '-'.join(['a', 'b']) }}|{{ 'abc'.find('c') }}"
            + "|{{ 'x</think>y'.split('</think>')[-1] }}|{{ 'hello world'.title() }}";

        Assert.Equal("x|y|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|True|True|HELLO|ab|a-b|2|y|Hello World", Fixtures.Render(template));
    }

    [Fact]
    public void DictMethodsReadWithoutChangingTheDict()
    {
        Assert.Equal("1 none ['a'] [1]", Fixtures.Render("{{ {'a': 1}.get('a') }} {{ {'a': 1}.get('b', 'none') }} {{ {'a': 1}.keys()|list }} {{ {'a': 1}.values()|list }}"));
    }

    [Fact]
    public void SortingTextAndNumbersTogetherFailsLikePython()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{{ [1, 'a']|sort }}"));

        Assert.StartsWith("'<' not supported between instances of", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFilterIsReportedWhereItIsUsed()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{{ 'x'|shout }}"));

        Assert.Equal("No filter named 'shout'. (line 1, column 7)", error.Message);
    }
}
