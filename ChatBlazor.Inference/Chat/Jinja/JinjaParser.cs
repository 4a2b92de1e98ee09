namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>
/// Recursive-descent parser over <see cref="JinjaLexer"/> tokens. Expression precedence follows Jinja2's
/// parser exactly (filters and <c>is</c> tests bind tighter than any operator), because chat templates
/// rely on it: <c>'a' + message['content'] | trim</c> trims only the content.
/// </summary>
internal sealed class JinjaParser
{
    private static readonly HashSet<string> CompareOperators = ["==", "!=", "<", "<=", ">", ">="];

    private readonly List<Token> _tokens;
    private int _index;
    private int _loopDepth;

    private JinjaParser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Node> Parse(string source)
    {
        var parser = new JinjaParser(JinjaLexer.Tokenize(source));
        var (body, _) = parser.ParseStatements(opener: null);
        return body;
    }

    private Token? Current => _index < _tokens.Count ? _tokens[_index] : null;

    // Statements

    /// <summary>
    /// Parses nodes until one of <paramref name="endTags"/> opens a block tag; that tag name is consumed and returned.
    /// </summary>
    private (List<Node> Body, string? EndTag) ParseStatements(Token? opener, params string[] endTags)
    {
        var body = new List<Node>();
        while (Current is { } token)
        {
            switch (token.Kind)
            {
                case TokenKind.Text:
                    _index++;
                    body.Add(new TextNode(token.Value, token.Line, token.Column));
                    break;
                case TokenKind.VariableBegin:
                    _index++;
                    var value = ParseTuple(withConditional: true);
                    Expect(TokenKind.VariableEnd, "'}}'");
                    body.Add(new OutputNode(value, token.Line, token.Column));
                    break;
                case TokenKind.BlockBegin:
                    _index++;
                    var name = Expect(TokenKind.Name, "a tag name such as 'if' or 'for'");
                    if (endTags.Contains(name.Value))
                        return (body, name.Value);
                    body.Add(ParseStatement(token, name));
                    break;
                default:
                    throw Unexpected(token, "text or a tag");
            }
        }

        if (opener is null)
            return (body, null);
        throw ChatTemplateException.At(
            $"Unexpected end of template: '{{% {opener.Value} %}}' opened at line {opener.Line}, column {opener.Column} needs '{{% {endTags[^1]} %}}'.",
            opener.Line,
            opener.Column);
    }

    private Node ParseStatement(Token tag, Token name)
    {
        switch (name.Value)
        {
            case "if":
                return ParseIf(tag, name);
            case "for":
                return ParseFor(tag, name);
            case "set":
                return ParseSet(tag, name);
            case "macro":
                return ParseMacro(tag, name);
            case "break" or "continue":
                if (_loopDepth == 0)
                    throw ChatTemplateException.At($"'{{% {name.Value} %}}' is only allowed inside a for loop.", name.Line, name.Column);
                Expect(TokenKind.BlockEnd, "'%}'");
                return name.Value == "break" ? new BreakNode(tag.Line, tag.Column) : new ContinueNode(tag.Line, tag.Column);
            case "generation":
                // transformers' AssistantTracker tag: it only marks assistant spans, so its body renders as is.
                Expect(TokenKind.BlockEnd, "'%}'");
                var (body, _) = ParseStatements(name, "endgeneration");
                Expect(TokenKind.BlockEnd, "'%}'");
                return new IfNode([(new LiteralExpr(true, tag.Line, tag.Column), body)], [], tag.Line, tag.Column);
            case "elif" or "else" or "endif" or "endfor" or "endset" or "endmacro" or "endgeneration":
                throw ChatTemplateException.At($"'{{% {name.Value} %}}' has no matching opening tag.", name.Line, name.Column);
            default:
                throw ChatTemplateException.At($"Unknown tag '{name.Value}'.", name.Line, name.Column);
        }
    }

    private IfNode ParseIf(Token tag, Token name)
    {
        var branches = new List<(Expr, IReadOnlyList<Node>)>();
        var test = ParseTuple(withConditional: true);
        while (true)
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            var (body, end) = ParseStatements(name, "elif", "else", "endif");
            branches.Add((test, body));
            if (end == "elif")
            {
                test = ParseTuple(withConditional: true);
                continue;
            }

            IReadOnlyList<Node> elseBody = [];
            if (end == "else")
            {
                Expect(TokenKind.BlockEnd, "'%}'");
                (elseBody, _) = ParseStatements(name, "endif");
            }
            Expect(TokenKind.BlockEnd, "'%}'");
            return new IfNode(branches, elseBody, tag.Line, tag.Column);
        }
    }

    private ForNode ParseFor(Token tag, Token name)
    {
        var targets = ParseTargets();
        ExpectName("in");
        var iterable = ParseTuple(withConditional: false);
        Expr? filter = null;
        if (IsName("if"))
        {
            _index++;
            filter = ParseTuple(withConditional: true);
        }
        if (IsName("recursive"))
            throw Unexpected(Current!, "'%}' (recursive loops are not supported)");
        Expect(TokenKind.BlockEnd, "'%}'");

        _loopDepth++;
        var (body, end) = ParseStatements(name, "else", "endfor");
        _loopDepth--;
        IReadOnlyList<Node> elseBody = [];
        if (end == "else")
        {
            Expect(TokenKind.BlockEnd, "'%}'");
            (elseBody, _) = ParseStatements(name, "endfor");
        }
        Expect(TokenKind.BlockEnd, "'%}'");
        return new ForNode(targets, iterable, filter, body, elseBody, tag.Line, tag.Column);
    }

    private Node ParseSet(Token tag, Token name)
    {
        var first = Expect(TokenKind.Name, "a variable name");
        if (IsOperator("."))
        {
            _index++;
            var attribute = Expect(TokenKind.Name, "an attribute name");
            Expect(TokenKind.Operator, "'='", "=");
            var value = ParseTuple(withConditional: true);
            Expect(TokenKind.BlockEnd, "'%}'");
            return new SetNode([first.Value], attribute.Value, value, tag.Line, tag.Column);
        }

        _index--;
        var targets = ParseTargets();
        if (IsOperator("="))
        {
            _index++;
            var value = ParseTuple(withConditional: true);
            Expect(TokenKind.BlockEnd, "'%}'");
            return new SetNode(targets, null, value, tag.Line, tag.Column);
        }

        if (targets.Count != 1)
            throw Unexpected(Current ?? first, "'='");
        Expect(TokenKind.BlockEnd, "'%}' or '='");
        var (body, _) = ParseStatements(name, "endset");
        Expect(TokenKind.BlockEnd, "'%}'");
        return new SetBlockNode(targets[0], body, tag.Line, tag.Column);
    }

    private MacroNode ParseMacro(Token tag, Token name)
    {
        var macroName = Expect(TokenKind.Name, "a macro name");
        Expect(TokenKind.Operator, "'('", "(");
        var parameters = new List<(string, Expr?)>();
        while (!IsOperator(")"))
        {
            if (parameters.Count > 0)
                Expect(TokenKind.Operator, "',' or ')'", ",");
            var parameter = Expect(TokenKind.Name, "a parameter name");
            Expr? defaultValue = null;
            if (IsOperator("="))
            {
                _index++;
                defaultValue = ParseExpression();
            }
            parameters.Add((parameter.Value, defaultValue));
        }
        _index++;
        Expect(TokenKind.BlockEnd, "'%}'");

        // A macro body is its own function: break/continue cannot reach a loop around the definition.
        var outerLoopDepth = _loopDepth;
        _loopDepth = 0;
        var (body, _) = ParseStatements(name, "endmacro");
        _loopDepth = outerLoopDepth;
        Expect(TokenKind.BlockEnd, "'%}'");
        return new MacroNode(macroName.Value, parameters, body, tag.Line, tag.Column);
    }

    private List<string> ParseTargets()
    {
        var parenthesized = IsOperator("(");
        if (parenthesized)
            _index++;
        var targets = new List<string> { Expect(TokenKind.Name, "a variable name").Value };
        while (IsOperator(","))
        {
            _index++;
            targets.Add(Expect(TokenKind.Name, "a variable name").Value);
        }
        if (parenthesized)
            Expect(TokenKind.Operator, "')'", ")");
        return targets;
    }

    // Expressions, lowest precedence first.

    /// <summary>An expression, or an implicit tuple <c>a, b</c> where Jinja2 allows one (output, set, for, if).</summary>
    private Expr ParseTuple(bool withConditional)
    {
        var first = Current;
        var item = withConditional ? ParseExpression() : ParseOr();
        if (!IsOperator(","))
            return item;

        var items = new List<Expr> { item };
        while (IsOperator(","))
        {
            _index++;
            if (Current is null || Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd || IsName("in"))
                break;
            items.Add(withConditional ? ParseExpression() : ParseOr());
        }
        return new TupleExpr(items, first!.Line, first.Column);
    }

    private Expr ParseExpression()
    {
        var expr = ParseOr();
        while (IsName("if"))
        {
            var at = Next();
            var test = ParseOr();
            Expr? otherwise = null;
            if (IsName("else"))
            {
                _index++;
                otherwise = ParseExpression();
            }
            expr = new ConditionalExpr(test, expr, otherwise, at.Line, at.Column);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (IsName("or"))
        {
            var at = Next();
            left = new BinaryExpr("or", left, ParseAnd(), at.Line, at.Column);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (IsName("and"))
        {
            var at = Next();
            left = new BinaryExpr("and", left, ParseNot(), at.Line, at.Column);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (!IsName("not"))
            return ParseCompare();
        var at = Next();
        return new UnaryExpr("not", ParseNot(), at.Line, at.Column);
    }

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (Current is { } token)
        {
            string op;
            if (token.Kind == TokenKind.Operator && CompareOperators.Contains(token.Value))
            {
                op = token.Value;
                _index++;
            }
            else if (IsName("in"))
            {
                op = "in";
                _index++;
            }
            else if (IsName("not") && _index + 1 < _tokens.Count && _tokens[_index + 1] is { Kind: TokenKind.Name, Value: "in" })
            {
                op = "not in";
                _index += 2;
            }
            else
            {
                break;
            }
            rest.Add((op, ParseMath1()));
        }
        return rest.Count == 0 ? first : new CompareExpr(first, rest, first.Line, first.Column);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (IsOperator("+") || IsOperator("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParseConcat(), op.Line, op.Column);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var parts = new List<Expr> { ParseMath2() };
        while (IsOperator("~"))
        {
            _index++;
            parts.Add(ParseMath2());
        }
        return parts.Count == 1 ? parts[0] : new ConcatExpr(parts, parts[0].Line, parts[0].Column);
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (IsOperator("*") || IsOperator("/") || IsOperator("//") || IsOperator("%"))
        {
            var op = Next();
            left = new BinaryExpr(op.Value, left, ParsePow(), op.Line, op.Column);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (IsOperator("**"))
        {
            var op = Next();
            left = new BinaryExpr("**", left, ParseUnary(withFilter: true), op.Line, op.Column);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Expr node;
        if (IsOperator("-") || IsOperator("+"))
        {
            var op = Next();
            node = new UnaryExpr(op.Value, ParseUnary(withFilter: false), op.Line, op.Column);
        }
        else
        {
            node = ParsePrimary();
        }
        node = ParsePostfix(node);
        return withFilter ? ParseFilterAndTests(node) : node;
    }

    private Expr ParsePrimary()
    {
        var token = Current ?? throw EndOfTemplate();
        switch (token.Kind)
        {
            case TokenKind.Name:
                _index++;
                return token.Value switch
                {
                    "true" or "True" => new LiteralExpr(true, token.Line, token.Column),
                    "false" or "False" => new LiteralExpr(false, token.Line, token.Column),
                    "none" or "None" => new LiteralExpr(null, token.Line, token.Column),
                    _ => new NameExpr(token.Value, token.Line, token.Column),
                };
            case TokenKind.String:
                // Adjacent string literals concatenate, as in Python.
                var text = (string)token.Literal!;
                _index++;
                while (Current is { Kind: TokenKind.String } next)
                {
                    text += (string)next.Literal!;
                    _index++;
                }
                return new LiteralExpr(text, token.Line, token.Column);
            case TokenKind.Integer or TokenKind.Float:
                _index++;
                return new LiteralExpr(token.Literal, token.Line, token.Column);
            case TokenKind.Operator when token.Value == "(":
                return ParseParenthesized();
            case TokenKind.Operator when token.Value == "[":
                return ParseList();
            case TokenKind.Operator when token.Value == "{":
                return ParseDict();
            default:
                throw Unexpected(token, "an expression");
        }
    }

    private Expr ParseParenthesized()
    {
        var open = Next();
        if (IsOperator(")"))
        {
            _index++;
            return new TupleExpr([], open.Line, open.Column);
        }
        var expr = ParseExpression();
        if (IsOperator(","))
        {
            var items = new List<Expr> { expr };
            while (IsOperator(","))
            {
                _index++;
                if (IsOperator(")"))
                    break;
                items.Add(ParseExpression());
            }
            expr = new TupleExpr(items, open.Line, open.Column);
        }
        Expect(TokenKind.Operator, "')'", ")");
        return expr;
    }

    private ListExpr ParseList()
    {
        var open = Next();
        var items = new List<Expr>();
        while (!IsOperator("]"))
        {
            if (items.Count > 0)
            {
                Expect(TokenKind.Operator, "',' or ']'", ",");
                if (IsOperator("]"))
                    break;
            }
            items.Add(ParseExpression());
        }
        _index++;
        return new ListExpr(items, open.Line, open.Column);
    }

    private DictExpr ParseDict()
    {
        var open = Next();
        var pairs = new List<(Expr, Expr)>();
        while (!IsOperator("}"))
        {
            if (pairs.Count > 0)
            {
                Expect(TokenKind.Operator, "',' or '}'", ",");
                if (IsOperator("}"))
                    break;
            }
            var key = ParseExpression();
            Expect(TokenKind.Operator, "':'", ":");
            pairs.Add((key, ParseExpression()));
        }
        _index++;
        return new DictExpr(pairs, open.Line, open.Column);
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (IsOperator("."))
            {
                _index++;
                var token = Current ?? throw EndOfTemplate();
                _index++;
                node = token.Kind switch
                {
                    TokenKind.Name => new AttributeExpr(node, token.Value, node.Line, node.Column),
                    TokenKind.Integer => new ItemExpr(node, new LiteralExpr(token.Literal, token.Line, token.Column), node.Line, node.Column),
                    _ => throw Unexpected(token, "an attribute name"),
                };
            }
            else if (IsOperator("["))
            {
                node = ParseSubscript(node);
            }
            else if (IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private Expr ParseSubscript(Expr target)
    {
        _index++;
        Expr? start = null;
        if (!IsOperator(":"))
        {
            start = ParseExpression();
            if (IsOperator("]"))
            {
                _index++;
                return new ItemExpr(target, start, target.Line, target.Column);
            }
            if (IsOperator(","))
                throw Unexpected(Current!, "']' (tuple subscripts are not supported)");
        }

        Expect(TokenKind.Operator, "':' or ']'", ":");
        Expr? stop = null;
        Expr? step = null;
        if (!IsOperator("]") && !IsOperator(":"))
            stop = ParseExpression();
        if (IsOperator(":"))
        {
            _index++;
            if (!IsOperator("]"))
                step = ParseExpression();
        }
        Expect(TokenKind.Operator, "']'", "]");
        return new SliceExpr(target, start, stop, step, target.Line, target.Column);
    }

    private CallExpr ParseCall(Expr target)
    {
        var (args, kwargs) = ParseArguments();
        return new CallExpr(target, args, kwargs, target.Line, target.Column);
    }

    private (List<Expr> Args, List<(string, Expr)> Kwargs) ParseArguments()
    {
        Expect(TokenKind.Operator, "'('", "(");
        var args = new List<Expr>();
        var kwargs = new List<(string, Expr)>();
        while (!IsOperator(")"))
        {
            if (args.Count + kwargs.Count > 0)
            {
                Expect(TokenKind.Operator, "',' or ')'", ",");
                if (IsOperator(")"))
                    break;
            }
            if (Current is { Kind: TokenKind.Name } name && _index + 1 < _tokens.Count && _tokens[_index + 1] is { Kind: TokenKind.Operator, Value: "=" })
            {
                _index += 2;
                kwargs.Add((name.Value, ParseExpression()));
            }
            else
            {
                if (kwargs.Count > 0)
                    throw Unexpected(Current ?? throw EndOfTemplate(), "a keyword argument (positional arguments come first)");
                args.Add(ParseExpression());
            }
        }
        _index++;
        return (args, kwargs);
    }

    private Expr ParseFilterAndTests(Expr node)
    {
        while (true)
        {
            if (IsOperator("|"))
            {
                var bar = Next();
                var name = ParseDottedName();
                List<Expr> args = [];
                List<(string, Expr)> kwargs = [];
                if (IsOperator("("))
                    (args, kwargs) = ParseArguments();
                node = new FilterExpr(node, name, args, kwargs, bar.Line, bar.Column);
            }
            else if (IsName("is"))
            {
                var at = Next();
                var negated = false;
                if (IsName("not"))
                {
                    negated = true;
                    _index++;
                }
                var name = ParseDottedName();
                List<Expr> args = [];
                if (IsOperator("("))
                {
                    (args, _) = ParseArguments();
                }
                else if (Current is { } arg
                    && (arg.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                        || (arg.Kind == TokenKind.Operator && arg.Value is "[" or "{"))
                    && !(arg.Kind == TokenKind.Name && arg.Value is "else" or "or" or "and" or "if"))
                {
                    args = [ParsePostfix(ParsePrimary())];
                }
                node = new TestExpr(node, name, args, negated, at.Line, at.Column);
            }
            else if (IsOperator("("))
            {
                node = ParseCall(node);
            }
            else
            {
                return node;
            }
        }
    }

    private string ParseDottedName()
    {
        var name = Expect(TokenKind.Name, "a filter or test name").Value;
        while (IsOperator("."))
        {
            _index++;
            name += "." + Expect(TokenKind.Name, "a name").Value;
        }
        return name;
    }

    // Token helpers

    private bool IsName(string value) => Current is { Kind: TokenKind.Name } t && t.Value == value;

    private bool IsOperator(string value) => Current is { Kind: TokenKind.Operator } t && t.Value == value;

    private Token Next() => _tokens[_index++];

    private void ExpectName(string value)
    {
        if (!IsName(value))
            throw Current is null ? EndOfTemplate() : Unexpected(Current, $"'{value}'");
        _index++;
    }

    private Token Expect(TokenKind kind, string description, string? value = null)
    {
        var token = Current ?? throw EndOfTemplate();
        if (token.Kind != kind || (value is not null && token.Value != value))
            throw Unexpected(token, description);
        _index++;
        return token;
    }

    private static ChatTemplateException Unexpected(Token token, string expected)
    {
        var found = token.Kind switch
        {
            TokenKind.Text => "text",
            TokenKind.BlockEnd or TokenKind.VariableEnd => $"end of tag '{token.Value}'",
            TokenKind.BlockBegin or TokenKind.VariableBegin => $"start of tag '{token.Value}'",
            _ => $"'{token.Value}'",
        };
        return ChatTemplateException.At($"Expected {expected} but found {found}.", token.Line, token.Column);
    }

    private ChatTemplateException EndOfTemplate()
    {
        var last = _tokens.Count > 0 ? _tokens[^1] : new Token(TokenKind.Text, "", 1, 1);
        return ChatTemplateException.At("Unexpected end of template.", last.Line, last.Column);
    }
}
