using System.Globalization;

namespace ChatBlazor.Inference.Training.Data;

/// <summary>
/// + and − with operands up to 3 digits, × with operands up to 2 digits. Answers look like "23 + 58 = 81.".
/// Operand pairs are split train/eval by a fixed hash (about 1 in 10 goes to eval; a + b and b + a together).
/// </summary>
internal static class Arithmetic
{
    private enum Op { Add, Subtract, Multiply }

    private static readonly Dictionary<Op, string[]> _trainTemplates = new()
    {
        [Op.Add] =
        [
            "What is {a} + {b}?", "{a}+{b}", "{a} + {b} =", "{a} + {b}", "what is {a} plus {b}", "How much is {a} plus {b}?",
            "compute {a} + {b}", "Calculate {a}+{b}.", "add {a} and {b}", "{a} plus {b}?", "sum of {a} and {b}?",
            "What's {a} + {b}", "solve {a} + {b}", "{a} + {b}?", "whats {a}+{b}", "can you do {a} + {b}",
        ],
        [Op.Subtract] =
        [
            "What is {a} - {b}?", "{a}-{b}", "{a} - {b} =", "{a} − {b}", "How much is {a} minus {b}?", "compute {a} − {b}",
            "calculate {a} minus {b}", "Subtract {b} from {a}.", "{a} take away {b}", "what's {a} minus {b}",
            "{a} minus {b}?", "solve {a}-{b}", "what is {a} − {b}", "{a} - {b}?",
        ],
        [Op.Multiply] =
        [
            "What is {a} * {b}?", "{a}*{b}", "{a} x {b}", "{a} × {b} =", "compute {a}*{b}", "How much is {a} times {b}?",
            "{a} times {b}", "Multiply {a} by {b}.", "what's {a} multiplied by {b}", "product of {a} and {b}?",
            "calculate {a} x {b}", "what is {a} × {b}", "{a} * {b}?", "solve {a}*{b}",
        ],
    };

    private static readonly Dictionary<Op, string[]> _evalTemplates = new()
    {
        [Op.Add] = ["Work out {a} added to {b}.", "Tell me the total of {a} and {b}.", "If you add {b} to {a}, what do you get?", "I need {a} and {b} added together."],
        [Op.Subtract] = ["Take {b} away from {a}. What's left?", "Tell me what {a} less {b} comes to.", "What remains when {b} is removed from {a}?", "Find {a} reduced by {b}."],
        [Op.Multiply] = ["Tell me what {a} groups of {b} come to.", "What do you get multiplying {a} and {b} together?", "Find {a} lots of {b}.", "I need {a} multiplied with {b}, please."],
    };

    public static IEnumerable<ChatExample> Generate(int count, Random rng, bool eval)
    {
        for (var i = 0; i < count; i++)
        {
            var op = (Op)rng.Next(3);
            int a, b;
            do (a, b) = Operands(op, rng);
            while (IsEvalPair(op, a, b) != eval);

            var template = rng.Pick(eval ? _evalTemplates[op] : _trainTemplates[op]);
            var user = Phrasing.Fill(Phrasing.Fill(template, "a", Str(a)), "b", Str(b));
            if (!eval)
                user = Phrasing.Vary(user, rng);
            var (symbol, result) = op switch
            {
                Op.Add => ("+", a + b),
                Op.Subtract => ("-", a - b),
                _ => ("×", a * b),
            };
            yield return new ChatExample(DataCategory.Arithmetic, user, $"{Str(a)} {symbol} {Str(b)} = {Str(result)}.");
        }
    }

    private static (int A, int B) Operands(Op op, Random rng)
    {
        var maxDigits = op == Op.Multiply ? 2 : 3;
        var a = Number(maxDigits, rng);
        var b = Number(maxDigits, rng);
        // Mostly non-negative differences, but some negative results too.
        if (op == Op.Subtract && a < b && rng.Next(4) != 0)
            (a, b) = (b, a);
        return (a, b);
    }

    // Digit count first, so one- and two-digit numbers are as common as three-digit ones.
    private static int Number(int maxDigits, Random rng)
    {
        var digits = rng.Next(1, maxDigits + 1);
        return digits == 1 ? rng.Next(0, 10) : rng.Next((int)Math.Pow(10, digits - 1), (int)Math.Pow(10, digits));
    }

    /// <summary>Fixed split of operand pairs: commutative operations put (a, b) and (b, a) on the same side.</summary>
    private static bool IsEvalPair(Op op, int a, int b)
    {
        if (op != Op.Subtract && a > b)
            (a, b) = (b, a);
        var h = (ulong)((int)op * 1_000_000 + a * 1000 + b) + 0x9E3779B97F4A7C15UL;
        h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9UL;
        h = (h ^ (h >> 27)) * 0x94D049BB133111EBUL;
        h ^= h >> 31;
        return h % 10 == 0;
    }

    private static string Str(int n) => n.ToString(CultureInfo.InvariantCulture);
}
