using System.Text.RegularExpressions;
using ChatBlazor.Inference.Training.Data;

namespace ChatBlazor.Inference.Tests.Training.Data;

public sealed partial class ArithmeticTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AnswersEqualTheArithmeticOfTheQuestionsOwnNumbers(bool eval)
    {
        var examples = TestData.Generate(new DataMix(3000, 0, 0, 0, 0), seed: 7, eval);

        Assert.Equal(3000, examples.Count);
        foreach (var example in examples)
        {
            // Read the question independently of the generator: its two numbers and its operation words.
            var numbers = Numbers().Matches(example.User).Select(m => int.Parse(m.Value)).ToArray();
            Assert.True(numbers.Length == 2, example.User);
            var text = example.User.ToLowerInvariant();
            var (a, b) = Reversed().IsMatch(text) ? (numbers[1], numbers[0]) : (numbers[0], numbers[1]);
            long expected;
            if (Multiply().IsMatch(text))
            {
                Assert.InRange(a, 0, 99);
                Assert.InRange(b, 0, 99);
                expected = a * b;
            }
            else
            {
                Assert.InRange(a, 0, 999);
                Assert.InRange(b, 0, 999);
                expected = Subtract().IsMatch(text) ? a - b : a + b;
            }

            var result = Result().Match(example.Assistant);
            Assert.True(result.Success, example.Assistant);
            Assert.True(expected == long.Parse(result.Groups[1].Value), $"{example.User} -> {example.Assistant}");
        }
    }

    [Fact]
    public void SumsAndProductsAreWorkedInTheOrderTheQuestionNamesTheNumbers()
    {
        // "Add 90 to 407" is worked as "90 + 407: …": the model copies the numbers in the order it read them.
        var examples = TestData.Generate(new DataMix(3000, 0, 0, 0, 0), seed: 5, eval: false)
            .Select(e => (e.User, Equation: Equation().Match(e.Assistant)))
            .Where(e => e.Equation.Groups[2].Value != "-").ToList();

        Assert.True(examples.Count > 1000);
        Assert.Contains(examples, e => Regex.IsMatch(e.User, @"\d+ (is added|gets added|more are put) ", RegexOptions.IgnoreCase));
        foreach (var (user, equation) in examples)
        {
            var numbers = Numbers().Matches(user).Select(m => m.Value).ToArray();
            Assert.True(numbers[0] == equation.Groups[1].Value && numbers[1] == equation.Groups[3].Value, $"{user} -> {equation.Value}");
        }
    }

    [Fact]
    public void EvalOperandPairsNeverAppearInTraining()
    {
        static HashSet<string> Pairs(IEnumerable<ChatExample> examples) =>
            [.. examples.Select(e => Equation().Match(e.Assistant)).Select(m =>
            {
                var (a, b) = (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[3].Value));
                var op = m.Groups[2].Value;
                if (op != "-" && a > b)
                    (a, b) = (b, a); // a + b and b + a are the same fact
                return $"{a} {op} {b}";
            })];

        var train = Pairs(TestData.Generate(new DataMix(20000, 0, 0, 0, 0), seed: 1, eval: false));
        var eval = Pairs(TestData.Generate(new DataMix(2000, 0, 0, 0, 0), seed: 1, eval: true));

        Assert.True(eval.Count > 1000);
        Assert.Empty(train.Intersect(eval));
    }

    [Fact]
    public void EveryWorkedStepIsTrue()
    {
        var examples = TestData.Generate(new DataMix(3000, 0, 0, 0, 0), seed: 3, eval: false);
        Assert.True(examples.Count(e => e.Assistant.Contains("tens ", StringComparison.Ordinal)) > 1000);

        // Every clause with an '=' has the same value on every side: "tens 5 + 6 + 1 = 12", "23 × 40 + 23 × 7 = 920 + 161".
        Assert.Contains(examples, e => e.Assistant.Contains("thousands ", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.Assistant.StartsWith(e.Assistant[0] + " - ", StringComparison.Ordinal) && e.Assistant.Contains("is below zero", StringComparison.Ordinal));
        foreach (var example in examples)
            foreach (var clause in Clauses().Split(example.Assistant.TrimEnd('.')).Where(c => c.Contains(" = ", StringComparison.Ordinal)))
            {
                var sides = clause.Split(" = ").Select(side => Evaluate(Place().Replace(side, ""))).Distinct();
                Assert.True(sides.Count() == 1, $"{clause} in {example.Assistant}");
            }
    }

    /// <summary>Sums and differences of products, left to right: "23 × 40 + 23 × 7", "13 - 8", "-65".</summary>
    private static long Evaluate(string expression)
    {
        var terms = expression.Trim().Replace("- ", "+ -", StringComparison.Ordinal).Split("+ ");
        return terms.Sum(term => term.Split(" × ").Aggregate(1L, (product, factor) => product * long.Parse(factor.Trim())));
    }

    [GeneratedRegex(@", |: |\. ")]
    private static partial Regex Clauses();

    [GeneratedRegex(@"^(So |so |ones |tens |hundreds |thousands )")]
    private static partial Regex Place();

    [GeneratedRegex(@"\d+")]
    private static partial Regex Numbers();

    [GeneratedRegex(@"[*×]|\d\s*x\s*\d|times|multipl|product|groups|lots|sets|rows")]
    private static partial Regex Multiply();

    [GeneratedRegex(@"[-−]|minus|subtract|away|taken|less|remove|reduced|difference|deduct|taking|take \d|knock|fewer|lower")]
    private static partial Regex Subtract();

    // The second number named first: "subtract 3 from 8", "take 3 off 8", "3 fewer than 8".
    [GeneratedRegex(@"\d\D* (from|off) \d|fewer")]
    private static partial Regex Reversed();

    [GeneratedRegex(@"= (-?\d+)\.$")]
    private static partial Regex Result();

    [GeneratedRegex(@"^(\d+) ([-+×]) (\d+)[ :]")]
    private static partial Regex Equation();
}
