using ChatBlazor.Inference.Chat;

namespace ChatBlazor.Inference.Tests.Chat;

public sealed class JinjaExpressionTests
{
    [Fact]
    public void ArithmeticFollowsPythonIncludingFloorDivisionAndModulo()
    {
        Assert.Equal(
            "7 3.5 3 -4 1 2 1024 abab 1.5",
            Fixtures.Render("{{ 1 + 2 * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ 1 + 0.5 }}"));
    }

    [Fact]
    public void IntegerOverflowIsATemplateErrorNotAWrappedNumber()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{{ 9223372036854775807 + 1 }}"));

        Assert.StartsWith("Integer arithmetic overflowed 64 bits.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TildeConcatenatesAnythingAsText()
    {
        Assert.Equal("n=1 NoneTrue", Fixtures.Render("{{ 'n=' ~ 1 ~ ' ' ~ none ~ true }}"));
    }

    [Fact]
    public void PlusRefusesToMixTextAndNumbers()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{{ 'a' + 1 }}"));

        Assert.Contains("unsupported operand type(s) for +: 'str' and 'int'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparisonsMembershipAndLogicBehaveLikePython()
    {
        var template = "{{ 1 < 2 <= 2 }} {{ 'b' > 'a' }} {{ 1 == 1.0 }} {{ 'a' in 'cat' }} {{ 'x' not in ['a'] }} {{ 'k' in {'k': 1} }} {{ not none }} {{ none or 'fallback' }} {{ 0 and 'never' }}";

        Assert.Equal("True True True True True True True fallback 0", Fixtures.Render(template));
    }

    [Fact]
    public void ConditionalExpressionWithoutElseRendersEmpty()
    {
        Assert.Equal("yes []", Fixtures.Render("{{ 'yes' if 1 > 0 else 'no' }} [{{ 'shown' if false }}]"));
    }

    [Fact]
    public void ValuesPrintAsPythonWouldPrintThem()
    {
        var template = "{{ none }} {{ true }} {{ False }} {{ 1.0 }} {{ 1e16 }} {{ 0.00001 }} {{ [1, 'a', none, (1, 2)] }} {{ {'k': [true]} }} {{ \"it's\" }}";

        Assert.Equal("None True False 1.0 1e+16 1e-05 [1, 'a', None, (1, 2)] {'k': [True]} it's", Fixtures.Render(template));
    }

    [Fact]
    public void StringLiteralsUnderstandEscapesAndAdjacentLiteralsJoin()
    {
        Assert.Equal("it's\ttab\nline ab \\d", Fixtures.Render(@"{{ 'it\'s' }}{{ ""\ttab\nline"" }} {{ 'a' 'b' }} {{ '\d' }}"));
    }

    [Fact]
    public void SubscriptsAndSlicesFollowPython()
    {
        var template = "{{ [1, 2, 3, 4][1:3] }} {{ [1, 2, 3, 4][::-1] }} {{ 'hello'[1:-1] }} {{ [1, 2, 3][-1] }} {{ messages[-1].content }} {{ messages[1:]|length }} [{{ [1][5] }}]";

        Assert.Equal("[2, 3] [4, 3, 2, 1] ell 3 What is 2 + 2?  3 []", Fixtures.Render(template, Conversations.WithSystem));
    }

    [Fact]
    public void AttributeAndItemAccessBothReachDictKeys()
    {
        Assert.Equal("system You are a helpful assistant.", Fixtures.Render("{{ messages[0].role }} {{ messages[0]['content'] }}", Conversations.WithSystem));
    }

    [Fact]
    public void LiteralBracesInsideATagDoNotCloseIt()
    {
        Assert.Equal("{'a': {'b': 1}}", Fixtures.Render("{{ {'a': {'b': 1}} }}"));
    }

    [Fact]
    public void TestsClassifyValues()
    {
        var template = "{{ 'a' is string }} {{ 1 is number }} {{ 1 is integer }} {{ 1.5 is float }} {{ none is none }} {{ {} is mapping }} {{ [] is iterable }}"
            + " {{ 'a' is iterable }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ x is defined }} {{ x is undefined }} {{ 'A' is upper }}"
            + " {{ 2 is eq 2 }} {{ true is boolean }} {{ 1 is not string }} {{ 1 is sameas 1 }}";

        Assert.Equal("True True True True True True True True True True True False True True True True True True", Fixtures.Render(template));
    }

    [Fact]
    public void UndefinedVariablesRenderEmptyAndAreFalsy()
    {
        var template = "[{{ missing }}][{{ missing.attribute if missing is defined }}][{{ messages[0].tool_calls }}][{{ missing|default('d') }}][{{ missing|length }}][{{ 'no' if missing else 'falsy' }}][{{ missing == missing }}]";

        Assert.Equal("[][][][d][0][falsy][True]", Fixtures.Render(template, Conversations.WithSystem));
    }

    [Fact]
    public void UsingAnAttributeOfAnUndefinedVariableFailsWithItsName()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("ok\n{{ missing.attribute }}"));

        Assert.Equal("'missing' is undefined (line 2, column 4)", error.Message);
        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void MissingDictKeyIsUndefinedAndNamesTheKeyWhenUsed()
    {
        var error = Assert.Throws<ChatTemplateException>(() => Fixtures.Render("{{ messages[0].tool_calls[0] }}", Conversations.WithSystem));

        Assert.StartsWith("'dict object' has no attribute 'tool_calls'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltinGlobalsAreAvailable()
    {
        Assert.Equal("[0, 1, 2] [3, 5] {'a': 1} 07/03/2025", Render("{{ range(3)|list }} {{ range(3, 7, 2)|list }} {{ dict(a=1) }} {{ strftime_now('%d/%m/%Y') }}"));
    }

    [Fact]
    public void SpecialTokensAndGenerationFlagAreInScope()
    {
        var template = ChatTemplate.FromString("{{ bos_token }}|{{ eos_token }}|{{ add_generation_prompt }}|{{ tools }}|{{ unk_token is defined }}", "<s>", "</s>");

        Assert.Equal("<s>|</s>|True|None|False", template.Render([], addGenerationPrompt: true));
    }

    private static string Render(string template) =>
        ChatTemplate.FromString(template).Render([], addGenerationPrompt: false, now: new DateTime(2025, 3, 7));
}
