using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>
/// Python's <c>json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)</c>, which is what
/// transformers installs as the <c>tojson</c> filter. System.Text.Json is not used here on purpose: its spacing,
/// escaping and float formatting differ from Python's, and tool schemas must render byte-for-byte.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, object? indent, object? separators, bool sortKeys)
    {
        var indentText = indent switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(n, 0)),
            string s => s,
            _ => throw new JinjaRuntimeError($"tojson: indent must be an integer or a string, not {Py.TypeName(indent)}."),
        };

        // Python switches the item separator to "," when indenting, so lines carry no trailing space.
        var (itemSeparator, keySeparator) = separators switch
        {
            null => indentText is null ? (", ", ": ") : (",", ": "),
            IList<object?> { Count: 2 } pair => (Py.Str(pair[0]), Py.Str(pair[1])),
            _ => throw new JinjaRuntimeError("tojson: separators must be a pair of strings."),
        };

        var sb = new StringBuilder();
        new Writer(sb, indentText, itemSeparator, keySeparator, sortKeys).Write(value, 0);
        return sb.ToString();
    }

    private sealed class Writer(StringBuilder sb, string? indent, string itemSeparator, string keySeparator, bool sortKeys)
    {
        public void Write(object? value, int level)
        {
            switch (value)
            {
                case null:
                    sb.Append("null");
                    break;
                case bool b:
                    sb.Append(b ? "true" : "false");
                    break;
                case long l:
                    sb.Append(l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    sb.Append(double.IsNaN(d) ? "NaN" : double.IsInfinity(d) ? (d > 0 ? "Infinity" : "-Infinity") : Py.FloatRepr(d));
                    break;
                case string s:
                    WriteString(s);
                    break;
                case IList<object?> list:
                    WriteContainer('[', ']', list.Count, level, list.Select<object?, Action<int>>(item => l => Write(item, l)));
                    break;
                case JinjaDict dict:
                    var pairs = sortKeys ? dict.OrderBy(p => p.Key, StringComparer.Ordinal).AsEnumerable() : dict;
                    WriteContainer('{', '}', dict.Count, level, pairs.Select<KeyValuePair<string, object?>, Action<int>>(p => l =>
                    {
                        WriteString(p.Key);
                        sb.Append(keySeparator);
                        Write(p.Value, l);
                    }));
                    break;
                default:
                    throw new JinjaRuntimeError($"Object of type {Py.TypeName(value)} is not JSON serializable.");
            }
        }

        private void WriteContainer(char open, char close, int count, int level, IEnumerable<Action<int>> items)
        {
            if (count == 0)
            {
                sb.Append(open).Append(close);
                return;
            }

            sb.Append(open);
            var first = true;
            foreach (var item in items)
            {
                if (!first)
                    sb.Append(itemSeparator);
                if (indent is not null)
                    NewLine(level + 1);
                item(level + 1);
                first = false;
            }
            if (indent is not null)
                NewLine(level);
            sb.Append(close);
        }

        private void NewLine(int level)
        {
            sb.Append('\n');
            for (var i = 0; i < level; i++)
                sb.Append(indent);
        }

        private void WriteString(string s)
        {
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append(@"\\"); break;
                    case '\n': sb.Append(@"\n"); break;
                    case '\r': sb.Append(@"\r"); break;
                    case '\t': sb.Append(@"\t"); break;
                    case '\b': sb.Append(@"\b"); break;
                    case '\f': sb.Append(@"\f"); break;
                    case < ' ': sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"); break;
                    default: sb.Append(c); break;
                }
            }
            sb.Append('"');
        }
    }
}
