using ChatBlazor.Core.Routing;

namespace ChatBlazor.Core.Tests.Routing;

public class RequestDetectorsTests
{
    [Theory]
    [InlineData("```python\nprint('hi')\n```")]
    [InlineData("Why does this fail?\nconsole.log(items.map(x => x * 2));")]
    [InlineData("def total(items):\n    return sum(items)")]
    [InlineData("How do I reverse a linked list in C#?")]
    [InlineData("My Python script throws a KeyError, why?")]
    [InlineData("SELECT name FROM users WHERE age > 30 returns nothing")]
    [InlineData("Write a function that checks whether a string is a palindrome")]
    [InlineData("const add = (a, b) => { return a + b; }")]
    public void CodeIsDetected(string text) => Assert.True(RequestDetectors.IsCode(text));

    [Theory]
    [InlineData("What is the dress code for a wedding?")]
    [InlineData("What's the zip code of Springfield?")]
    [InlineData("Tell me a story about a snake in the jungle")]
    [InlineData("How do I get rid of rust on my bike chain?")]
    [InlineData("Recommend a good coffee for mornings")]
    public void EverydayWordsAreNotCode(string text) => Assert.False(RequestDetectors.IsCode(text));

    [Theory]
    [InlineData("What is 17 * 23?")]
    [InlineData("Solve 2x + 3 = 11")]
    [InlineData("Find the derivative of sin(x) * x^2")]
    [InlineData("What is the probability of two sixes with two dice?")]
    [InlineData("Prove that the square root of 2 is irrational")]
    [InlineData("compute 12 / 4 + 7")]
    public void MathsIsDetected(string text) => Assert.True(RequestDetectors.IsMaths(text));

    [Theory]
    [InlineData("Plan a 2-3 day trip to Rome")]
    [InlineData("My appointment is on 2024-05-01, remind me what to bring")]
    [InlineData("Use 1/2 cup of sugar in the recipe?")]
    [InlineData("Write a poem about autumn leaves")]
    [InlineData("Who won the world cup in 2018?")]
    public void DatesRangesAndProseAreNotMaths(string text) => Assert.False(RequestDetectors.IsMaths(text));

    [Theory]
    [InlineData("What can ChatBlazor do?")]
    [InlineData("How do I upgrade to the Pro plan?")]
    [InlineData("Where do I create my API key?")]
    [InlineData("How do I export my conversations?")]
    [InlineData("What is the rate limit on the free plan?")]
    [InlineData("Which models can I use?")]
    public void QuestionsAboutTheServiceAreDetected(string text) => Assert.True(RequestDetectors.IsAboutChatBlazor(text));

    [Theory]
    [InlineData("How do I make a Blazor component?")]
    [InlineData("What plan should I make for my garden?")]
    [InlineData("Explain how chat apps like WhatsApp encrypt messages")]
    [InlineData("What is a good account name for a bakery?")]
    public void OtherQuestionsAreNotAboutTheService(string text) => Assert.False(RequestDetectors.IsAboutChatBlazor(text));
}
