using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Chat.Jinja;

// Runtime values are plain CLR objects standing in for Python's:
//   null = None, bool, long = int, double = float, string = str,
//   List<object?> = list, object?[] = tuple, JinjaDict = dict,
//   plus Undefined, Namespace, LoopInfo and Callable below.

/// <summary>A dict that keeps insertion order, as Python's does (tojson and items() depend on it).</summary>
internal sealed class JinjaDict : OrderedDictionary<string, object?>
{
    public JinjaDict()
        : base(StringComparer.Ordinal)
    {
    }
}

/// <summary>
/// Jinja2's default Undefined: renders as "", is falsy, iterates as empty, and fails loudly only when
/// something tries to use it (attribute, call, arithmetic). HF templates rely on this for optional keys.
/// </summary>
internal sealed class Undefined(string description)
{
    /// <summary>Why the value is undefined, phrased like Jinja2: "'x' is undefined".</summary>
    public string Description { get; } = description;

    public static Undefined Named(string name) => new($"'{name}' is undefined");

    public static Undefined NoAttribute(object? target, string name) =>
        new($"'{Py.TypeName(target)} object' has no attribute '{name}'");

    public static Undefined NoElement(object? target, object? index) =>
        new($"{Py.TypeName(target)} object has no element {Py.Repr(index)}");
}

/// <summary>The mutable object made by <c>namespace(...)</c>: the one thing a for-loop body can write to that outlives an iteration.</summary>
internal sealed class Namespace
{
    public JinjaDict Attributes { get; } = new();
}

/// <summary>A function the template can call: globals, macros, bound string/dict methods, loop.cycle.</summary>
internal sealed class Callable(string name, Func<List<object?>, JinjaDict, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(List<object?> args, JinjaDict kwargs) => invoke(args, kwargs);
}

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopInfo(IReadOnlyList<object?> items)
{
    public int Index0 { get; set; }

    public object? GetAttribute(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)(Index0 + 1),
        "revindex0" => (long)(items.Count - Index0 - 1),
        "revindex" => (long)(items.Count - Index0),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth" => 1L,
        "depth0" => 0L,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : Undefined.Named("previtem"),
        "nextitem" => Index0 < items.Count - 1 ? items[Index0 + 1] : Undefined.Named("nextitem"),
        "cycle" => new Callable("cycle", (args, _) =>
            args.Count == 0 ? throw new JinjaRuntimeError("loop.cycle() needs at least one argument.") : args[Index0 % args.Count]),
        _ => Undefined.NoAttribute(this, name),
    };
}

/// <summary>A failure while rendering; the interpreter adds the template position.</summary>
internal sealed class JinjaRuntimeError(string message) : Exception(message);

/// <summary>Python semantics for the operations Jinja2 delegates to Python: truth, str(), repr(), ==, &lt;.</summary>
internal static class Py
{
    public static string TypeName(object? value) => value switch
    {
        null => "NoneType",
        bool => "bool",
        long => "int",
        double => "float",
        string => "str",
        object?[] => "tuple",
        List<object?> => "list",
        JinjaDict => "dict",
        Undefined => "Undefined",
        Namespace => "Namespace",
        LoopInfo => "LoopContext",
        Callable => "function",
        _ => value.GetType().Name,
    };

    public static bool IsTruthy(object? value) => value switch
    {
        null or Undefined => false,
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s => s.Length > 0,
        IList<object?> list => list.Count > 0,
        JinjaDict dict => dict.Count > 0,
        _ => true,
    };

    /// <summary>Python's str(), which is what <c>{{ x }}</c> prints.</summary>
    public static string Str(object? value) => value switch
    {
        string s => s,
        Undefined => "",
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        Callable c => $"<function {c.Name}>",
        Namespace ns => $"<Namespace {Repr(ns.Attributes)}>",
        _ => Repr(value),
    };

    public static string Repr(object? value)
    {
        switch (value)
        {
            case string s:
                return StringRepr(s);
            case object?[] tuple:
                return tuple.Length == 1 ? $"({Repr(tuple[0])},)" : $"({string.Join(", ", tuple.Select(Repr))})";
            case List<object?> list:
                return $"[{string.Join(", ", list.Select(Repr))}]";
            case JinjaDict dict:
                return "{" + string.Join(", ", dict.Select(p => $"{StringRepr(p.Key)}: {Repr(p.Value)}")) + "}";
            default:
                return Str(value);
        }
    }

    private static string StringRepr(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        foreach (var c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\n': sb.Append(@"\n"); break;
                case '\r': sb.Append(@"\r"); break;
                case '\t': sb.Append(@"\t"); break;
                default:
                    if (c == quote)
                        sb.Append('\\').Append(c);
                    else if (c < 0x20 || c == 0x7f)
                        sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }

    /// <summary>Python's repr(float): shortest round-trip digits, fixed notation for exponents -4..15, "1.0" not "1".</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
            return "nan";
        if (double.IsInfinity(d))
            return d > 0 ? "inf" : "-inf";

        var shortest = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = shortest.StartsWith('-');
        // Recover the shortest digit string and the decimal exponent from "R" output.
        var mantissa = shortest.TrimStart('-');
        var exponent = 0;
        var e = mantissa.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(mantissa[(e + 1)..], CultureInfo.InvariantCulture);
            mantissa = mantissa[..e];
        }
        var point = mantissa.IndexOf('.');
        var digits = point >= 0 ? mantissa.Remove(point, 1) : mantissa;
        var intDigits = (point >= 0 ? point : mantissa.Length) + exponent;
        var trimmed = digits.TrimStart('0');
        intDigits -= digits.Length - trimmed.Length;
        digits = trimmed.TrimEnd('0');
        if (digits.Length == 0)
            return negative ? "-0.0" : "0.0";

        var decimalExponent = intDigits - 1;
        string body;
        if (decimalExponent is >= -4 and < 16)
        {
            if (intDigits <= 0)
                body = "0." + new string('0', -intDigits) + digits;
            else if (intDigits >= digits.Length)
                body = digits + new string('0', intDigits - digits.Length) + ".0";
            else
                body = digits[..intDigits] + "." + digits[intDigits..];
        }
        else
        {
            var fraction = digits.Length > 1 ? "." + digits[1..] : "";
            var sign = decimalExponent < 0 ? "-" : "+";
            body = $"{digits[0]}{fraction}e{sign}{Math.Abs(decimalExponent):00}";
        }
        return negative ? "-" + body : body;
    }

    public static bool IsNumber(object? value) => value is long or double or bool;

    public static double ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        bool b => b ? 1 : 0,
        _ => throw new JinjaRuntimeError($"Expected a number, got {TypeName(value)}."),
    };

    public static new bool Equals(object? a, object? b)
    {
        switch (a, b)
        {
            case (Undefined, Undefined):
                return true;
            case (Undefined, _) or (_, Undefined):
                return false;
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (string x, string y):
                return string.Equals(x, y, StringComparison.Ordinal);
            case (long x, long y):
                return x == y;
            case var _ when IsNumber(a) && IsNumber(b):
                return ToDouble(a) == ToDouble(b);
            case (object?[] x, object?[] y):
                return x.Length == y.Length && x.Zip(y).All(p => Equals(p.First, p.Second));
            case (List<object?> x, List<object?> y):
                return x.Count == y.Count && x.Zip(y).All(p => Equals(p.First, p.Second));
            case (JinjaDict x, JinjaDict y):
                return x.Count == y.Count && x.All(p => y.TryGetValue(p.Key, out var other) && Equals(p.Value, other));
            default:
                return ReferenceEquals(a, b);
        }
    }

    /// <summary>Python ordering for &lt;, sort, min and max: numbers with numbers, strings with strings, sequences item by item.</summary>
    public static int Compare(object? a, object? b)
    {
        if (IsNumber(a) && IsNumber(b))
            return a is long x && b is long y ? x.CompareTo(y) : ToDouble(a).CompareTo(ToDouble(b));
        if (a is string s && b is string t)
            return string.CompareOrdinal(s, t);
        if (a is IList<object?> l && b is IList<object?> m && a.GetType() == b.GetType())
        {
            for (var i = 0; i < Math.Min(l.Count, m.Count); i++)
            {
                if (!Equals(l[i], m[i]))
                    return Compare(l[i], m[i]);
            }
            return l.Count.CompareTo(m.Count);
        }
        throw new JinjaRuntimeError($"'<' not supported between instances of '{TypeName(a)}' and '{TypeName(b)}'.");
    }

    /// <summary>What a for loop, <c>in</c>, <c>list</c> and the sequence filters see when they iterate a value.</summary>
    public static List<object?> Iterate(object? value) => value switch
    {
        Undefined => [],
        IList<object?> list => [.. list],
        JinjaDict dict => [.. dict.Keys],
        string s => [.. s.EnumerateRunes().Select(r => (object?)r.ToString())],
        _ => throw new JinjaRuntimeError($"'{TypeName(value)}' object is not iterable."),
    };

    public static bool Contains(object? container, object? item) => container switch
    {
        string s when item is string sub => s.Contains(sub, StringComparison.Ordinal),
        string => throw new JinjaRuntimeError($"'in <string>' requires string as left operand, not {TypeName(item)}."),
        JinjaDict dict => item is string key && dict.ContainsKey(key),
        _ => Iterate(container).Any(x => Equals(x, item)),
    };

    public static long Length(object? value) => value switch
    {
        Undefined => 0,
        string s => s.EnumerateRunes().Count(),
        IList<object?> list => list.Count,
        JinjaDict dict => dict.Count,
        Namespace ns => ns.Attributes.Count,
        _ => throw new JinjaRuntimeError($"object of type '{TypeName(value)}' has no len()."),
    };
}
