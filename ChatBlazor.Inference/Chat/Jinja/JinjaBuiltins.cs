using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>
/// Operators, attribute lookup, filters, tests and the Python str/dict/list methods that chat templates call.
/// Only non-mutating methods exist, as in the ImmutableSandboxedEnvironment transformers renders with.
/// </summary>
internal static partial class JinjaBuiltins
{
    /// <summary>Positional-or-keyword argument access for filters and methods.</summary>
    private readonly struct Arguments(string function, List<object?> positional, JinjaDict named)
    {
        public object? Get(int index, string name, object? fallback = null) =>
            index < positional.Count ? positional[index] : named.TryGetValue(name, out var value) ? value : fallback;

        public object? Required(int index, string name) =>
            index < positional.Count || named.ContainsKey(name)
                ? Get(index, name)
                : throw new JinjaRuntimeError($"{function}() is missing the argument '{name}'.");

        public List<object?> Rest(int from) => positional.Skip(from).ToList();

        public bool Flag(int index, string name, bool fallback = false) => Py.IsTruthy(Get(index, name, fallback));
    }

    // Attribute and item access

    /// <summary>Jinja2's getattr: a method of the value first, then (for dicts) the key, else Undefined.</summary>
    public static object? GetAttribute(object? target, string name)
    {
        switch (target)
        {
            case Undefined undefined:
                throw new JinjaRuntimeError(undefined.Description);
            case Namespace ns:
                return ns.Attributes.TryGetValue(name, out var attribute) ? attribute : Undefined.NoAttribute(target, name);
            case LoopInfo loop:
                return loop.GetAttribute(name);
        }

        if (Method(target, name) is { } method)
            return method;
        return target is JinjaDict dict && dict.TryGetValue(name, out var value) ? value : Undefined.NoAttribute(target, name);
    }

    /// <summary>Jinja2's getitem: the key or index first, then an attribute of that name, else Undefined.</summary>
    public static object? GetItem(object? target, object? key)
    {
        switch (target)
        {
            case Undefined undefined:
                throw new JinjaRuntimeError(undefined.Description);
            case JinjaDict dict when key is string text && dict.TryGetValue(text, out var value):
                return value;
            case IList<object?> list when key is long or bool:
                var index = ToIndex(key, list.Count);
                return index >= 0 && index < list.Count ? list[index] : Undefined.NoElement(target, key);
            case string s when key is long or bool:
                var runes = s.EnumerateRunes().ToList();
                var at = ToIndex(key, runes.Count);
                return at >= 0 && at < runes.Count ? runes[at].ToString() : Undefined.NoElement(target, key);
        }

        return key is string name ? GetAttribute(target, name) : Undefined.NoElement(target, key);
    }

    private static int ToIndex(object? key, int count)
    {
        var index = key is bool b ? (b ? 1 : 0) : (long)key!;
        return (int)(index < 0 ? index + count : index);
    }

    public static object? Slice(object? target, object? start, object? stop, object? step)
    {
        if (target is Undefined undefined)
            throw new JinjaRuntimeError(undefined.Description);

        // Jinja2 turns a failed subscript into Undefined rather than an error.
        var items = target switch
        {
            string s => s.EnumerateRunes().Select(r => (object?)r.ToString()).ToList(),
            IList<object?> list => list.ToList(),
            _ => null,
        };
        if (items is null)
            return Undefined.NoAttribute(target, "[:]");

        var stepValue = step is null ? 1 : AsLong(step, "slice step");
        if (stepValue == 0)
            throw new JinjaRuntimeError("slice step cannot be zero.");
        var count = items.Count;

        // Python's slice.indices(): clamp to the sequence, with defaults that depend on the step's sign.
        long Bound(object? value, long whenMissing)
        {
            if (value is null)
                return whenMissing;
            var v = AsLong(value, "slice index");
            if (v < 0)
                v += count;
            return stepValue > 0 ? Math.Clamp(v, 0, count) : Math.Clamp(v, -1, count - 1);
        }

        var from = Bound(start, stepValue > 0 ? 0 : count - 1);
        var to = Bound(stop, stepValue > 0 ? count : -1);
        var picked = new List<object?>();
        for (var i = from; stepValue > 0 ? i < to : i > to; i += stepValue)
            picked.Add(items[(int)i]);

        return target switch
        {
            string => string.Concat(picked),
            object?[] => picked.ToArray(),
            _ => picked,
        };
    }

    // Operators

    // The (object) casts stop C# from typing these switches as double, which would turn ints into floats.
    public static object? Negate(object? value) => value switch
    {
        long l => (object)checked(-l),
        double d => -d,
        bool b => b ? -1L : 0L,
        _ => throw new JinjaRuntimeError($"bad operand type for unary -: '{Py.TypeName(value)}'."),
    };

    public static object? Plus(object? value) => value switch
    {
        bool b => b ? 1L : 0L,
        long or double => value,
        _ => throw new JinjaRuntimeError($"bad operand type for unary +: '{Py.TypeName(value)}'."),
    };

    public static object? Arithmetic(string op, object? left, object? right)
    {
        if (left is Undefined undefined)
            throw new JinjaRuntimeError(undefined.Description);
        if (right is Undefined other)
            throw new JinjaRuntimeError(other.Description);

        if (Py.IsNumber(left) && Py.IsNumber(right))
            return Numeric(op, left, right);

        return (op, left, right) switch
        {
            ("+", string a, string b) => a + b,
            ("+", List<object?> a, List<object?> b) => a.Concat(b).ToList(),
            ("+", object?[] a, object?[] b) => a.Concat(b).ToArray(),
            ("*", string a, long n) => string.Concat(Enumerable.Repeat(a, RepeatCount(n))),
            ("*", long n, string a) => string.Concat(Enumerable.Repeat(a, RepeatCount(n))),
            ("*", List<object?> a, long n) => Enumerable.Repeat(a, RepeatCount(n)).SelectMany(x => x).ToList(),
            ("*", long n, List<object?> a) => Enumerable.Repeat(a, RepeatCount(n)).SelectMany(x => x).ToList(),
            ("%", string format, _) => PercentFormat(format, right),
            _ => throw new JinjaRuntimeError($"unsupported operand type(s) for {op}: '{Py.TypeName(left)}' and '{Py.TypeName(right)}'."),
        };
    }

    private static int RepeatCount(long n) =>
        n > int.MaxValue ? throw new JinjaRuntimeError("Repetition count is too large.") : (int)Math.Max(n, 0);

    private static object? Numeric(string op, object? left, object? right)
    {
        if (left is long or bool && right is long or bool)
        {
            var a = left is bool x ? (x ? 1L : 0L) : (long)left;
            var b = right is bool y ? (y ? 1L : 0L) : (long)right;
            switch (op)
            {
                case "+": return checked(a + b);
                case "-": return checked(a - b);
                case "*": return checked(a * b);
                case "/": return b == 0 ? throw new JinjaRuntimeError("division by zero.") : (double)a / b;
                case "//": return b == 0 ? throw new JinjaRuntimeError("integer division or modulo by zero.") : FloorDiv(a, b);
                case "%": return b == 0 ? throw new JinjaRuntimeError("integer division or modulo by zero.") : a - (b * FloorDiv(a, b));
                case "**" when b >= 0:
                    // Squaring keeps 1 ** 10**12 from looping a trillion times.
                    var result = 1L;
                    for (var power = a; b > 0; b >>= 1)
                    {
                        if ((b & 1) == 1)
                            result = checked(result * power);
                        if (b > 1)
                            power = checked(power * power);
                    }
                    return result;
            }
        }

        var l = Py.ToDouble(left);
        var r = Py.ToDouble(right);
        return op switch
        {
            "+" => l + r,
            "-" => l - r,
            "*" => l * r,
            "/" => r == 0 ? throw new JinjaRuntimeError("float division by zero.") : l / r,
            "//" => r == 0 ? throw new JinjaRuntimeError("float floor division by zero.") : Math.Floor(l / r),
            "%" => r == 0 ? throw new JinjaRuntimeError("float modulo.") : l - (r * Math.Floor(l / r)),
            "**" => Math.Pow(l, r),
            _ => throw new JinjaRuntimeError($"Unknown operator {op}."),
        };
    }

    private static long FloorDiv(long a, long b)
    {
        var quotient = a / b;
        return (a % b != 0) && ((a < 0) != (b < 0)) ? quotient - 1 : quotient;
    }

    /// <summary>The common subset of Python's <c>"%s" % value</c>.</summary>
    private static string PercentFormat(string format, object? values)
    {
        var args = values is object?[] tuple ? tuple.ToList() : [values];
        var next = 0;
        return PercentDirective().Replace(format, match =>
        {
            var kind = match.Groups[1].Value;
            if (kind == "%")
                return "%";
            if (next >= args.Count)
                throw new JinjaRuntimeError("not enough arguments for format string.");
            var arg = args[next++];
            return kind switch
            {
                "s" => Py.Str(arg),
                "r" => Py.Repr(arg),
                "d" or "i" => Py.Str(arg is double d ? (long)Math.Truncate(d) : arg),
                _ => Py.ToDouble(arg).ToString("F6", CultureInfo.InvariantCulture),
            };
        });
    }

    [GeneratedRegex("%([sridf%])")]
    private static partial Regex PercentDirective();

    public static bool Compare(string op, object? left, object? right) => op switch
    {
        "==" => Py.Equals(left, right),
        "!=" => !Py.Equals(left, right),
        "<" => Py.Compare(left, right) < 0,
        "<=" => Py.Compare(left, right) <= 0,
        ">" => Py.Compare(left, right) > 0,
        ">=" => Py.Compare(left, right) >= 0,
        "in" => Py.Contains(right, left),
        "not in" => !Py.Contains(right, left),
        _ => throw new JinjaRuntimeError($"Unknown comparison {op}."),
    };

    // Tests

    public static bool ApplyTest(string name, object? value, List<object?> args)
    {
        object? Arg(int i) => i < args.Count ? args[i] : throw new JinjaRuntimeError($"The test '{name}' needs an argument.");

        return name switch
        {
            "defined" => value is not Undefined,
            "undefined" => value is Undefined,
            "none" => value is null,
            "boolean" => value is bool,
            "true" => value is true,
            "false" => value is false,
            "integer" => value is long,
            "float" => value is double,
            "number" => value is long or double or bool,
            "string" => value is string,
            "mapping" => value is JinjaDict,
            "iterable" => value is string or IList<object?> or JinjaDict,
            "sequence" => value is string or IList<object?> or JinjaDict,
            "callable" => value is Callable,
            "odd" => Py.Equals(Arithmetic("%", value, 2L), 1L),
            "even" => Py.Equals(Arithmetic("%", value, 2L), 0L),
            "divisibleby" => Py.Equals(Arithmetic("%", value, Arg(0)), 0L),
            "lower" => IsLower(Py.Str(value)),
            "upper" => IsUpper(Py.Str(value)),
            "sameas" => SameAs(value, Arg(0)),
            "escaped" => false,
            "in" => Py.Contains(Arg(0), value),
            "eq" or "equalto" or "==" => Py.Equals(value, Arg(0)),
            "ne" or "!=" => !Py.Equals(value, Arg(0)),
            "lt" or "lessthan" or "<" => Py.Compare(value, Arg(0)) < 0,
            "le" or "<=" => Py.Compare(value, Arg(0)) <= 0,
            "gt" or "greaterthan" or ">" => Py.Compare(value, Arg(0)) > 0,
            "ge" or ">=" => Py.Compare(value, Arg(0)) >= 0,
            _ => throw new JinjaRuntimeError($"No test named '{name}'."),
        };
    }

    /// <summary>Python's <c>is</c>: identity, except that None, bools, small ints and literals are shared objects there.</summary>
    private static bool SameAs(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (bool x, bool y) => x == y,
        (long x, long y) => x == y,
        (string x, string y) => string.Equals(x, y, StringComparison.Ordinal),
        _ => ReferenceEquals(a, b),
    };

    // Filters

    public static object? ApplyFilter(string name, object? value, List<object?> positional, JinjaDict named)
    {
        var args = new Arguments(name, positional, named);
        switch (name)
        {
            case "default" or "d":
                return value is Undefined || (args.Flag(1, "boolean") && !Py.IsTruthy(value)) ? args.Get(0, "default_value", "") : value;
            case "safe":
                return value;
            case "string":
                return Py.Str(value);
            case "trim":
                return Strip(Py.Str(value), args.Get(0, "chars"), left: true, right: true);
            case "upper":
                return Py.Str(value).ToUpperInvariant();
            case "lower":
                return Py.Str(value).ToLowerInvariant();
            case "capitalize":
                return Capitalize(Py.Str(value));
            case "title":
                return TitleSplit().Split(Py.Str(value)).Where(part => part.Length > 0).Aggregate(
                    new StringBuilder(),
                    (sb, part) => sb.Append(char.ToUpperInvariant(part[0])).Append(part[1..].ToLowerInvariant()),
                    sb => sb.ToString());
            case "replace":
                return Replace(Py.Str(value), Py.Str(args.Required(0, "old")), Py.Str(args.Required(1, "new")), args.Get(2, "count"));
            case "length" or "count":
                return Py.Length(value);
            case "first":
                var firstItems = Py.Iterate(value);
                return firstItems.Count > 0 ? firstItems[0] : Undefined.Named("first");
            case "last":
                var lastItems = Py.Iterate(value);
                return lastItems.Count > 0 ? lastItems[^1] : Undefined.Named("last");
            case "list":
                return Py.Iterate(value);
            case "reverse":
                return value is string text ? string.Concat(text.EnumerateRunes().Reverse()) : Enumerable.Reverse(Py.Iterate(value)).ToList();
            case "join":
                var separator = Py.Str(args.Get(0, "d", ""));
                var attribute = args.Get(1, "attribute");
                return string.Join(separator, Py.Iterate(value).Select(item => Py.Str(attribute is null ? item : Lookup(item, attribute))));
            case "items":
                return value switch
                {
                    Undefined => new List<object?>(),
                    JinjaDict dict => dict.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList(),
                    _ => throw new JinjaRuntimeError($"Can only get item pairs from a mapping, not {Py.TypeName(value)}."),
                };
            case "dictsort":
                if (value is not JinjaDict sortable)
                    throw new JinjaRuntimeError("dictsort expects a mapping.");
                var byValue = Py.Str(args.Get(1, "by", "key")) == "value";
                var pairs = sortable.Select(p => (object?)new object?[] { p.Key, p.Value });
                return Sort(pairs, args.Flag(2, "reverse"), args.Flag(0, "case_sensitive"), item => ((object?[])item!)[byValue ? 1 : 0]);
            case "sort":
                var sortAttribute = args.Get(2, "attribute");
                return Sort(Py.Iterate(value), args.Flag(0, "reverse"), args.Flag(1, "case_sensitive"), item => sortAttribute is null ? item : Lookup(item, sortAttribute));
            case "unique":
                var uniqueAttribute = args.Get(1, "attribute");
                var caseSensitive = args.Flag(0, "case_sensitive");
                var seen = new List<object?>();
                var unique = new List<object?>();
                foreach (var item in Py.Iterate(value))
                {
                    var key = SortKey(uniqueAttribute is null ? item : Lookup(item, uniqueAttribute), caseSensitive);
                    if (!seen.Any(s => Py.Equals(s, key)))
                    {
                        seen.Add(key);
                        unique.Add(item);
                    }
                }
                return unique;
            case "min" or "max":
                var pool = Py.Iterate(value);
                if (pool.Count == 0)
                    return Undefined.Named(name);
                var extremeAttribute = args.Get(1, "attribute");
                var sorted = Sort(pool, reverse: name == "max", args.Flag(0, "case_sensitive"), item => extremeAttribute is null ? item : Lookup(item, extremeAttribute));
                return sorted[0];
            case "sum":
                var sumAttribute = args.Get(0, "attribute");
                return Py.Iterate(value).Aggregate(args.Get(1, "start", 0L), (total, item) => Arithmetic("+", total, sumAttribute is null ? item : Lookup(item, sumAttribute)));
            case "abs":
                return value switch
                {
                    long l => (object)Math.Abs(l),
                    double d => Math.Abs(d),
                    bool b => b ? 1L : 0L,
                    _ => throw new JinjaRuntimeError($"bad operand type for abs(): '{Py.TypeName(value)}'."),
                };
            case "round":
                var precision = (int)AsLong(args.Get(0, "precision", 0L), "round");
                var method = Py.Str(args.Get(1, "method", "common"));
                var number = Py.ToDouble(value);
                var scale = Math.Pow(10, precision);
                if (method == "common" && value is long or bool)
                    return value is bool flag ? (flag ? 1L : 0L) : value; // Python's round() keeps ints as ints.
                return method switch
                {
                    "ceil" => Math.Ceiling(number * scale) / scale,
                    "floor" => Math.Floor(number * scale) / scale,
                    _ => Math.Round(number, precision, MidpointRounding.ToEven),
                };
            case "int" or "float" when value is Undefined undefined:
                throw new JinjaRuntimeError(undefined.Description);
            case "int":
                return ToInt(value, args.Get(0, "default", 0L), (int)AsLong(args.Get(1, "base", 10L), "int"));
            case "float":
                return ToFloat(value, args.Get(0, "default", 0.0));
            case "tojson":
                return PyJson.Dumps(value, args.Get(0, "indent"), args.Get(1, "separators"), args.Flag(2, "sort_keys"));
            case "indent":
                return Indent(Py.Str(value), args.Get(0, "width", 4L), args.Flag(1, "first"), args.Flag(2, "blank"));
            case "center":
                var centered = Py.Str(value);
                var width = (int)AsLong(args.Get(0, "width", 80L), "center");
                var padding = Math.Max(width - centered.Length, 0);
                var leftPad = (padding / 2) + (padding & width & 1);
                return new string(' ', leftPad) + centered + new string(' ', padding - leftPad);
            case "wordcount":
                return (long)WordPattern().Count(Py.Str(value));
            case "escape" or "e":
                // markupsafe's escaping, which Jinja2's escape filter uses.
                return Py.Str(value).Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
                    .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);
            case "format":
                return PercentFormat(Py.Str(value), positional.Count == 1 ? positional[0] : positional.ToArray());
            case "attr":
                return GetAttribute(value, Py.Str(args.Required(0, "name")));
            case "map":
                return Map(value, positional, named);
            case "select" or "reject":
                var keep = name == "select";
                var selectTest = positional.Count > 0 ? Py.Str(positional[0]) : null;
                var selectArgs = args.Rest(1);
                return Py.Iterate(value)
                    .Where(item => (selectTest is null ? Py.IsTruthy(item) : ApplyTest(selectTest, item, selectArgs)) == keep)
                    .ToList();
            case "selectattr" or "rejectattr":
                var keepAttr = name == "selectattr";
                var path = args.Required(0, "attribute");
                var attrTest = positional.Count > 1 ? Py.Str(positional[1]) : null;
                var attrArgs = args.Rest(2);
                return Py.Iterate(value)
                    .Where(item =>
                    {
                        var attributeValue = Lookup(item, path);
                        return (attrTest is null ? Py.IsTruthy(attributeValue) : ApplyTest(attrTest, attributeValue, attrArgs)) == keepAttr;
                    })
                    .ToList();
            default:
                throw new JinjaRuntimeError($"No filter named '{name}'.");
        }
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordPattern();

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex TitleSplit();

    private static List<object?> Map(object? value, List<object?> positional, JinjaDict named)
    {
        var items = Py.Iterate(value);
        if (named.TryGetValue("attribute", out var attribute))
        {
            var hasDefault = named.TryGetValue("default", out var fallback);
            return items.Select(item =>
            {
                var result = Lookup(item, attribute);
                return result is Undefined && hasDefault ? fallback : result;
            }).ToList();
        }
        if (positional.Count == 0)
            throw new JinjaRuntimeError("map() needs a filter name or attribute=.");
        var filter = Py.Str(positional[0]);
        var filterArgs = positional.Skip(1).ToList();
        return items.Select(item => ApplyFilter(filter, item, filterArgs, named)).ToList();
    }

    /// <summary>Follows a dotted attribute path such as "function.name", as Jinja2's attrgetter does.</summary>
    private static object? Lookup(object? item, object? path)
    {
        if (path is long index)
            return GetItem(item, index);
        foreach (var part in Py.Str(path).Split('.'))
        {
            item = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? GetItem(item, number)
                : GetItem(item, part);
        }
        return item;
    }

    private static object? SortKey(object? value, bool caseSensitive) =>
        !caseSensitive && value is string s ? s.ToLowerInvariant() : value;

    private static List<object?> Sort(IEnumerable<object?> items, bool reverse, bool caseSensitive, Func<object?, object?> key)
    {
        // A stable sort, like Python's; reverse keeps equal items in their original order too.
        var keyed = items.Select((item, i) => (Item: item, Key: SortKey(key(item), caseSensitive), Index: i)).ToList();
        try
        {
            keyed.Sort((a, b) =>
            {
                var order = Py.Compare(a.Key, b.Key);
                return order != 0 ? (reverse ? -order : order) : a.Index.CompareTo(b.Index);
            });
        }
        catch (InvalidOperationException e) when (e.InnerException is JinjaRuntimeError inner)
        {
            // List.Sort wraps comparer exceptions; surface the "'<' not supported" message itself.
            throw inner;
        }
        return keyed.Select(k => k.Item).ToList();
    }

    private static string Indent(string text, object? width, bool first, bool blank)
    {
        var prefix = width is string s ? s : new string(' ', (int)AsLong(width, "indent"));
        var lines = text.Split('\n');
        var sb = new StringBuilder();
        for (var i = 0; i < lines.Length; i++)
        {
            if (i > 0)
                sb.Append('\n');
            var indentThis = (i > 0 || first) && (blank || lines[i].Trim().Length > 0);
            sb.Append(indentThis ? prefix : "").Append(lines[i]);
        }
        return sb.ToString();
    }

    private static object? ToInt(object? value, object? fallback, int numberBase)
    {
        switch (value)
        {
            case long or bool:
                return value is bool b ? (b ? 1L : 0L) : value;
            case double d:
                return (long)Math.Truncate(d);
            case string s:
                var text = s.Trim().Replace("_", "", StringComparison.Ordinal);
                try
                {
                    if (numberBase == 10 && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
                        return (long)Math.Truncate(parsed);
                    if (numberBase != 10)
                        return Convert.ToInt64(text, numberBase);
                }
                catch (FormatException)
                {
                }
                return fallback;
            default:
                return fallback;
        }
    }

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        long or double or bool => Py.ToDouble(value),
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => fallback,
    };

    internal static long AsLong(object? value, string function) => value switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw new JinjaRuntimeError($"{function}: expected an integer, got {Py.TypeName(value)}."),
    };

    // Python str, dict and list methods

    private static Callable? Method(object? target, string name) => target switch
    {
        string s => StringMethod(s, name),
        JinjaDict dict => DictMethod(dict, name),
        IList<object?> list => ListMethod(list, name),
        _ => null,
    };

    private static Callable? DictMethod(JinjaDict dict, string name) => name switch
    {
        "items" => new(name, (_, _) => dict.Select(p => (object?)new object?[] { p.Key, p.Value }).ToList()),
        "keys" => new(name, (_, _) => dict.Keys.Select(k => (object?)k).ToList()),
        "values" => new(name, (_, _) => dict.Values.ToList()),
        "get" => new(name, (positional, named) =>
        {
            var args = new Arguments(name, positional, named);
            return args.Required(0, "key") is string key && dict.TryGetValue(key, out var value) ? value : args.Get(1, "default");
        }),
        _ => null,
    };

    private static Callable? ListMethod(IList<object?> list, string name) => name switch
    {
        "index" => new(name, (positional, named) =>
        {
            var wanted = new Arguments(name, positional, named).Required(0, "value");
            for (var i = 0; i < list.Count; i++)
            {
                if (Py.Equals(list[i], wanted))
                    return (long)i;
            }
            throw new JinjaRuntimeError($"{Py.Repr(wanted)} is not in list.");
        }),
        "count" => new(name, (positional, named) =>
        {
            var wanted = new Arguments(name, positional, named).Required(0, "value");
            return (long)list.Count(item => Py.Equals(item, wanted));
        }),
        _ => null,
    };

    private static Callable? StringMethod(string s, string name)
    {
        Func<Arguments, object?>? body = name switch
        {
            "strip" => a => Strip(s, a.Get(0, "chars"), left: true, right: true),
            "lstrip" => a => Strip(s, a.Get(0, "chars"), left: true, right: false),
            "rstrip" => a => Strip(s, a.Get(0, "chars"), left: false, right: true),
            "upper" => _ => s.ToUpperInvariant(),
            "lower" => _ => s.ToLowerInvariant(),
            "capitalize" => _ => Capitalize(s),
            "title" => _ => PythonTitle(s),
            "startswith" => a => Affixes(a.Required(0, "prefix")).Any(p => s.StartsWith(p, StringComparison.Ordinal)),
            "endswith" => a => Affixes(a.Required(0, "suffix")).Any(p => s.EndsWith(p, StringComparison.Ordinal)),
            "removeprefix" => a => Py.Str(a.Required(0, "prefix")) is var p && s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s,
            "removesuffix" => a => Py.Str(a.Required(0, "suffix")) is var p && p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s,
            "split" => a => Split(s, a.Get(0, "sep"), a.Get(1, "maxsplit", -1L), fromRight: false),
            "rsplit" => a => Split(s, a.Get(0, "sep"), a.Get(1, "maxsplit", -1L), fromRight: true),
            "splitlines" => _ => s.Split('\n').Select(line => (object?)line.TrimEnd('\r')).SkipLast(s.EndsWith('\n') ? 1 : 0).ToList(),
            "replace" => a => Replace(s, Py.Str(a.Required(0, "old")), Py.Str(a.Required(1, "new")), a.Get(2, "count")),
            "find" => a => (long)s.IndexOf(Py.Str(a.Required(0, "sub")), StringComparison.Ordinal),
            "rfind" => a => (long)s.LastIndexOf(Py.Str(a.Required(0, "sub")), StringComparison.Ordinal),
            "count" => a => (long)CountOccurrences(s, Py.Str(a.Required(0, "sub"))),
            "join" => a => string.Join(s, Py.Iterate(a.Required(0, "iterable")).Select(Py.Str)),
            "isdigit" or "isnumeric" or "isdecimal" => _ => s.Length > 0 && s.All(char.IsDigit),
            "isalpha" => _ => s.Length > 0 && s.All(char.IsLetter),
            "isalnum" => _ => s.Length > 0 && s.All(char.IsLetterOrDigit),
            "isspace" => _ => s.Length > 0 && s.All(char.IsWhiteSpace),
            "islower" => _ => IsLower(s),
            "isupper" => _ => IsUpper(s),
            _ => null,
        };
        return body is null ? null : new Callable(name, (positional, named) => body(new Arguments(name, positional, named)));
    }

    // Python's str.isupper()/islower(): at least one cased character, and no cased character of the other case.
    private static bool IsUpper(string s) => s.Any(char.IsLetter) && !s.Any(char.IsLower);

    private static bool IsLower(string s) => s.Any(char.IsLetter) && !s.Any(char.IsUpper);

    private static IEnumerable<string> Affixes(object? value) =>
        value is object?[] tuple ? tuple.Select(Py.Str) : [Py.Str(value)];

    private static string Strip(string s, object? chars, bool left, bool right)
    {
        if (chars is null)
            return left && right ? s.Trim() : left ? s.TrimStart() : s.TrimEnd();
        var set = Py.Str(chars).ToCharArray();
        return left && right ? s.Trim(set) : left ? s.TrimStart(set) : s.TrimEnd(set);
    }

    private static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    private static string PythonTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        var previousIsLetter = false;
        foreach (var c in s)
        {
            sb.Append(previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsLetter = char.IsLetter(c);
        }
        return sb.ToString();
    }

    private static string Replace(string s, string old, string replacement, object? count)
    {
        var limit = count is null ? -1 : AsLong(count, "replace");
        if (limit < 0)
            return old.Length == 0 ? string.Join(replacement, ["", .. s.Select(c => c.ToString()), ""]) : s.Replace(old, replacement, StringComparison.Ordinal);

        var sb = new StringBuilder();
        var position = 0;
        for (var done = 0L; done < limit; done++)
        {
            var found = s.IndexOf(old, position, StringComparison.Ordinal);
            if (found < 0 || old.Length == 0)
                break;
            sb.Append(s, position, found - position).Append(replacement);
            position = found + old.Length;
        }
        return sb.Append(s, position, s.Length - position).ToString();
    }

    private static int CountOccurrences(string s, string sub)
    {
        if (sub.Length == 0)
            return s.Length + 1;
        var count = 0;
        for (var i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    private static List<object?> Split(string s, object? separator, object? maxSplit, bool fromRight)
    {
        var limit = maxSplit is null ? -1 : AsLong(maxSplit, "split");
        List<string> parts;
        if (separator is null)
        {
            // Python's split() with no separator splits on whitespace runs and drops empty pieces.
            parts = [];
            var words = fromRight ? s.TrimEnd() : s.TrimStart();
            while (words.Length > 0 && (limit < 0 || parts.Count < limit))
            {
                var at = fromRight ? words.LastIndexOfAny(WhitespaceChars) : words.IndexOfAny(WhitespaceChars);
                if (at < 0)
                    break;
                parts.Add(fromRight ? words[(at + 1)..] : words[..at]);
                words = fromRight ? words[..at].TrimEnd() : words[(at + 1)..].TrimStart();
            }
            if (words.Length > 0)
                parts.Add(words);
            if (fromRight)
                parts.Reverse();
        }
        else
        {
            var sep = Py.Str(separator);
            if (sep.Length == 0)
                throw new JinjaRuntimeError("empty separator.");
            parts = [.. s.Split(sep)];
            if (limit >= 0 && parts.Count > limit + 1)
            {
                var keep = (int)limit;
                parts = fromRight
                    ? [string.Join(sep, parts.Take(parts.Count - keep)), .. parts.Skip(parts.Count - keep)]
                    : [.. parts.Take(keep), string.Join(sep, parts.Skip(keep))];
            }
        }
        return parts.Select(p => (object?)p).ToList();
    }

    private static readonly char[] WhitespaceChars = [' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u2028', '\u2029'];
}
