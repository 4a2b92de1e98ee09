using System.Text;

namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>
/// Walks the AST and writes the output. Scoping follows Jinja2: <c>if</c> shares its scope, each for-loop
/// iteration and each macro call gets a fresh child scope, so a plain <c>set</c> inside a loop is gone after
/// the iteration and only <c>namespace</c> attributes carry values out.
/// </summary>
internal sealed class JinjaInterpreter
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private sealed class Scope(Scope? parent)
    {
        private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

        public bool TryGet(string name, out object? value)
        {
            for (var scope = this; scope is not null; scope = scope.Parent)
            {
                if (scope._variables.TryGetValue(name, out value))
                    return true;
            }
            value = null;
            return false;
        }

        public Scope? Parent => parent;

        public void Set(string name, object? value) => _variables[name] = value;
    }

    /// <summary>Thrown by <c>raise_exception</c>; turned into <see cref="ChatTemplateException"/> with the call's position.</summary>
    internal sealed class RaisedByTemplate(string message) : Exception(message);

    public static string Render(IReadOnlyList<Node> template, IReadOnlyDictionary<string, object?> globals)
    {
        var root = new Scope(null);
        foreach (var (name, value) in globals)
            root.Set(name, value);

        var output = new StringBuilder();
        new JinjaInterpreter().Execute(template, new Scope(root), output);
        return output.ToString();
    }

    private Flow Execute(IReadOnlyList<Node> nodes, Scope scope, StringBuilder output)
    {
        foreach (var node in nodes)
        {
            var flow = Execute(node, scope, output);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }

    private Flow Execute(Node node, Scope scope, StringBuilder output)
    {
        switch (node)
        {
            case TextNode text:
                output.Append(text.Text);
                return Flow.Normal;
            case OutputNode print:
                output.Append(Py.Str(Evaluate(print.Value, scope)));
                return Flow.Normal;
            case IfNode conditional:
                foreach (var (test, body) in conditional.Branches)
                {
                    if (Py.IsTruthy(Evaluate(test, scope)))
                        return Execute(body, scope, output);
                }
                return Execute(conditional.Else, scope, output);
            case ForNode loop:
                ExecuteFor(loop, scope, output);
                return Flow.Normal;
            case SetNode set:
                ExecuteSet(set, scope);
                return Flow.Normal;
            case SetBlockNode setBlock:
                var captured = new StringBuilder();
                Execute(setBlock.Body, new Scope(scope), captured);
                scope.Set(setBlock.Target, captured.ToString());
                return Flow.Normal;
            case MacroNode macro:
                scope.Set(macro.Name, MakeMacro(macro, scope));
                return Flow.Normal;
            case BreakNode:
                return Flow.Break;
            case ContinueNode:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"Unknown node {node.GetType().Name}.");
        }
    }

    private void ExecuteFor(ForNode loop, Scope scope, StringBuilder output)
    {
        var items = At(loop.Iterable, () => Py.Iterate(Evaluate(loop.Iterable, scope)));
        if (loop.Filter is not null)
        {
            // The filter sees the loop variable but not `loop`, which is only known once filtering is done.
            items = items.Where(item =>
            {
                var filterScope = new Scope(scope);
                Assign(loop.Targets, item, filterScope, loop);
                return Py.IsTruthy(Evaluate(loop.Filter, filterScope));
            }).ToList();
        }

        if (items.Count == 0)
        {
            Execute(loop.Else, new Scope(scope), output);
            return;
        }

        var info = new LoopInfo(items);
        for (var i = 0; i < items.Count; i++)
        {
            var iteration = new Scope(scope);
            Assign(loop.Targets, items[i], iteration, loop);
            info.Index0 = i;
            iteration.Set("loop", info);
            if (Execute(loop.Body, iteration, output) == Flow.Break)
                break;
        }
    }

    private void ExecuteSet(SetNode set, Scope scope)
    {
        var value = Evaluate(set.Value, scope);
        if (set.Attribute is null)
        {
            Assign(set.Targets, value, scope, set);
            return;
        }

        scope.TryGet(set.Targets[0], out var target);
        if (target is not Namespace ns)
            throw ChatTemplateException.At($"Cannot assign attribute '{set.Attribute}' on '{set.Targets[0]}': only namespace objects accept attributes.", set.Line, set.Column);
        ns.Attributes[set.Attribute] = value;
    }

    private static void Assign(IReadOnlyList<string> targets, object? value, Scope scope, Node at)
    {
        if (targets.Count == 1)
        {
            scope.Set(targets[0], value);
            return;
        }

        var items = value is IList<object?> list ? list : null;
        if (items is null || items.Count != targets.Count)
            throw ChatTemplateException.At($"Cannot unpack {Py.TypeName(value)} into {targets.Count} names.", at.Line, at.Column);
        for (var i = 0; i < targets.Count; i++)
            scope.Set(targets[i], items[i]);
    }

    private Callable MakeMacro(MacroNode macro, Scope definedIn) => new(macro.Name, (args, kwargs) =>
    {
        if (args.Count > macro.Parameters.Count)
            throw new JinjaRuntimeError($"Macro '{macro.Name}' takes {macro.Parameters.Count} arguments but {args.Count} were given.");

        var scope = new Scope(definedIn);
        for (var i = 0; i < macro.Parameters.Count; i++)
        {
            var (name, defaultValue) = macro.Parameters[i];
            object? value = i < args.Count ? args[i]
                : kwargs.TryGetValue(name, out var named) ? named
                : defaultValue is not null ? Evaluate(defaultValue, scope)
                : Undefined.Named(name);
            scope.Set(name, value);
        }
        foreach (var name in kwargs.Keys)
        {
            if (!macro.Parameters.Any(p => p.Name == name))
                throw new JinjaRuntimeError($"Macro '{macro.Name}' has no parameter '{name}'.");
        }

        var output = new StringBuilder();
        Execute(macro.Body, scope, output);
        return output.ToString();
    });

    // Expressions

    private object? Evaluate(Expr expr, Scope scope) => At(expr, () => EvaluateCore(expr, scope));

    /// <summary>Gives runtime errors the position of the innermost expression that failed.</summary>
    private static T At<T>(Expr expr, Func<T> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (JinjaRuntimeError e)
        {
            throw ChatTemplateException.At(e.Message, expr.Line, expr.Column);
        }
        catch (RaisedByTemplate e)
        {
            throw ChatTemplateException.Raised(e.Message, expr.Line, expr.Column);
        }
        catch (OverflowException)
        {
            // Python ints never overflow; ours are 64-bit, so say so instead of returning a wrapped number.
            throw ChatTemplateException.At("Integer arithmetic overflowed 64 bits.", expr.Line, expr.Column);
        }
    }

    private object? EvaluateCore(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case LiteralExpr literal:
                return literal.Value;
            case NameExpr name:
                return scope.TryGet(name.Name, out var value) ? value : Undefined.Named(name.Name);
            case ListExpr list:
                return list.Items.Select(item => Evaluate(item, scope)).ToList();
            case TupleExpr tuple:
                return tuple.Items.Select(item => Evaluate(item, scope)).ToArray();
            case DictExpr dict:
                var result = new JinjaDict();
                foreach (var (key, item) in dict.Pairs)
                {
                    if (Evaluate(key, scope) is not string text)
                        throw new JinjaRuntimeError("Only string keys are supported in dict literals.");
                    result[text] = Evaluate(item, scope);
                }
                return result;
            case AttributeExpr attribute:
                return JinjaBuiltins.GetAttribute(Evaluate(attribute.Target, scope), attribute.Name);
            case ItemExpr item:
                return JinjaBuiltins.GetItem(Evaluate(item.Target, scope), Evaluate(item.Key, scope));
            case SliceExpr slice:
                return JinjaBuiltins.Slice(
                    Evaluate(slice.Target, scope),
                    EvaluateOptional(slice.Start, scope),
                    EvaluateOptional(slice.Stop, scope),
                    EvaluateOptional(slice.Step, scope));
            case CallExpr call:
                var target = Evaluate(call.Target, scope);
                var (args, kwargs) = EvaluateArguments(call.Args, call.Kwargs, scope);
                return target switch
                {
                    Callable callable => callable.Invoke(args, kwargs),
                    Undefined undefined => throw new JinjaRuntimeError(undefined.Description),
                    _ => throw new JinjaRuntimeError($"'{Py.TypeName(target)}' object is not callable."),
                };
            case FilterExpr filter:
                var input = Evaluate(filter.Value, scope);
                var (filterArgs, filterKwargs) = EvaluateArguments(filter.Args, filter.Kwargs, scope);
                return JinjaBuiltins.ApplyFilter(filter.Name, input, filterArgs, filterKwargs);
            case TestExpr test:
                var tested = Evaluate(test.Value, scope);
                var testArgs = test.Args.Select(arg => Evaluate(arg, scope)).ToList();
                return JinjaBuiltins.ApplyTest(test.Name, tested, testArgs) != test.Negated;
            case UnaryExpr unary:
                var operand = Evaluate(unary.Operand, scope);
                return unary.Operator switch
                {
                    "not" => !Py.IsTruthy(operand),
                    "-" => JinjaBuiltins.Negate(operand),
                    _ => JinjaBuiltins.Plus(operand),
                };
            case BinaryExpr { Operator: "and" } and:
                var left = Evaluate(and.Left, scope);
                return Py.IsTruthy(left) ? Evaluate(and.Right, scope) : left;
            case BinaryExpr { Operator: "or" } or:
                var first = Evaluate(or.Left, scope);
                return Py.IsTruthy(first) ? first : Evaluate(or.Right, scope);
            case BinaryExpr binary:
                return JinjaBuiltins.Arithmetic(binary.Operator, Evaluate(binary.Left, scope), Evaluate(binary.Right, scope));
            case CompareExpr compare:
                var current = Evaluate(compare.First, scope);
                foreach (var (op, operandExpr) in compare.Rest)
                {
                    var next = Evaluate(operandExpr, scope);
                    if (!JinjaBuiltins.Compare(op, current, next))
                        return false;
                    current = next;
                }
                return true;
            case ConcatExpr concat:
                return string.Concat(concat.Parts.Select(part => Py.Str(Evaluate(part, scope))));
            case ConditionalExpr conditional:
                return Py.IsTruthy(Evaluate(conditional.Test, scope))
                    ? Evaluate(conditional.Then, scope)
                    : conditional.Else is null ? Undefined.Named("else") : Evaluate(conditional.Else, scope);
            default:
                throw new InvalidOperationException($"Unknown expression {expr.GetType().Name}.");
        }
    }

    private object? EvaluateOptional(Expr? expr, Scope scope) => expr is null ? null : Evaluate(expr, scope);

    private (List<object?> Args, JinjaDict Kwargs) EvaluateArguments(
        IReadOnlyList<Expr> args,
        IReadOnlyList<(string Name, Expr Value)> kwargs,
        Scope scope)
    {
        var values = args.Select(arg => Evaluate(arg, scope)).ToList();
        var named = new JinjaDict();
        foreach (var (name, value) in kwargs)
            named[name] = Evaluate(value, scope);
        return (values, named);
    }
}
