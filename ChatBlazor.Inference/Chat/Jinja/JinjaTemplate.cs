namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>A parsed template plus the globals transformers gives every chat template.</summary>
internal sealed class JinjaTemplate
{
    // Jinja2's sandbox refuses ranges longer than this, so a runaway template fails instead of eating memory.
    private const long MaxRange = 100_000;

    private readonly IReadOnlyList<Node> _body;

    public JinjaTemplate(string source) => _body = JinjaParser.Parse(source);

    public string Render(IReadOnlyDictionary<string, object?> variables, DateTime now)
    {
        var globals = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["range"] = new Callable("range", (args, _) => Range(args)),
            ["namespace"] = new Callable("namespace", (args, kwargs) => MakeNamespace(args, kwargs)),
            ["dict"] = new Callable("dict", (args, kwargs) => MakeDict(args, kwargs)),
            ["raise_exception"] = new Callable("raise_exception", (args, _) =>
                throw new JinjaInterpreter.RaisedByTemplate(args.Count > 0 ? Py.Str(args[0]) : "")),
            ["strftime_now"] = new Callable("strftime_now", (args, _) =>
                Strftime.Format(now, args.Count > 0 ? Py.Str(args[0]) : throw new JinjaRuntimeError("strftime_now() needs a format."))),
        };
        foreach (var (name, value) in variables)
            globals[name] = value;
        return JinjaInterpreter.Render(_body, globals);
    }

    private static List<object?> Range(List<object?> args)
    {
        var numbers = args.Select(a => JinjaBuiltins.AsLong(a, "range")).ToList();
        var (start, stop, step) = numbers.Count switch
        {
            1 => (0L, numbers[0], 1L),
            2 => (numbers[0], numbers[1], 1L),
            3 => (numbers[0], numbers[1], numbers[2]),
            _ => throw new JinjaRuntimeError("range() takes 1 to 3 arguments."),
        };
        if (step == 0)
            throw new JinjaRuntimeError("range() arg 3 must not be zero.");

        var result = new List<object?>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (result.Count >= MaxRange)
                throw new JinjaRuntimeError($"range() is limited to {MaxRange} items.");
            result.Add(i);
        }
        return result;
    }

    private static Namespace MakeNamespace(List<object?> args, JinjaDict kwargs)
    {
        var ns = new Namespace();
        foreach (var (key, value) in MakeDict(args, kwargs))
            ns.Attributes[key] = value;
        return ns;
    }

    private static JinjaDict MakeDict(List<object?> args, JinjaDict kwargs)
    {
        var dict = new JinjaDict();
        foreach (var arg in args)
        {
            if (arg is not JinjaDict source)
                throw new JinjaRuntimeError($"Expected a mapping, got {Py.TypeName(arg)}.");
            foreach (var (key, value) in source)
                dict[key] = value;
        }
        foreach (var (key, value) in kwargs)
            dict[key] = value;
        return dict;
    }
}
