namespace ChatBlazor.Inference.Chat.Jinja;

// Statements. Line and Column point at the tag (or text) in the template source, for error messages.

internal abstract record Node(int Line, int Column);

internal sealed record TextNode(string Text, int Line, int Column) : Node(Line, Column);

internal sealed record OutputNode(Expr Value, int Line, int Column) : Node(Line, Column);

internal sealed record IfNode(IReadOnlyList<(Expr Test, IReadOnlyList<Node> Body)> Branches, IReadOnlyList<Node> Else, int Line, int Column)
    : Node(Line, Column);

internal sealed record ForNode(
    IReadOnlyList<string> Targets,
    Expr Iterable,
    Expr? Filter,
    IReadOnlyList<Node> Body,
    IReadOnlyList<Node> Else,
    int Line,
    int Column) : Node(Line, Column);

/// <summary><c>{% set a = x %}</c>, <c>{% set a, b = x %}</c>, or <c>{% set ns.attr = x %}</c> when <see cref="Attribute"/> is set.</summary>
internal sealed record SetNode(IReadOnlyList<string> Targets, string? Attribute, Expr Value, int Line, int Column) : Node(Line, Column);

/// <summary><c>{% set a %}...{% endset %}</c>: captures rendered output.</summary>
internal sealed record SetBlockNode(string Target, IReadOnlyList<Node> Body, int Line, int Column) : Node(Line, Column);

internal sealed record MacroNode(string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Node> Body, int Line, int Column)
    : Node(Line, Column);

internal sealed record BreakNode(int Line, int Column) : Node(Line, Column);

internal sealed record ContinueNode(int Line, int Column) : Node(Line, Column);

// Expressions.

internal abstract record Expr(int Line, int Column);

internal sealed record LiteralExpr(object? Value, int Line, int Column) : Expr(Line, Column);

internal sealed record NameExpr(string Name, int Line, int Column) : Expr(Line, Column);

internal sealed record ListExpr(IReadOnlyList<Expr> Items, int Line, int Column) : Expr(Line, Column);

internal sealed record TupleExpr(IReadOnlyList<Expr> Items, int Line, int Column) : Expr(Line, Column);

internal sealed record DictExpr(IReadOnlyList<(Expr Key, Expr Value)> Pairs, int Line, int Column) : Expr(Line, Column);

internal sealed record AttributeExpr(Expr Target, string Name, int Line, int Column) : Expr(Line, Column);

internal sealed record ItemExpr(Expr Target, Expr Key, int Line, int Column) : Expr(Line, Column);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line, int Column) : Expr(Line, Column);

internal sealed record CallExpr(Expr Target, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line, int Column)
    : Expr(Line, Column);

internal sealed record FilterExpr(Expr Value, string Name, IReadOnlyList<Expr> Args, IReadOnlyList<(string Name, Expr Value)> Kwargs, int Line, int Column)
    : Expr(Line, Column);

internal sealed record TestExpr(Expr Value, string Name, IReadOnlyList<Expr> Args, bool Negated, int Line, int Column) : Expr(Line, Column);

internal sealed record UnaryExpr(string Operator, Expr Operand, int Line, int Column) : Expr(Line, Column);

internal sealed record BinaryExpr(string Operator, Expr Left, Expr Right, int Line, int Column) : Expr(Line, Column);

/// <summary>A comparison chain such as <c>a &lt; b &lt;= c</c>; operators include <c>in</c> and <c>not in</c>.</summary>
internal sealed record CompareExpr(Expr First, IReadOnlyList<(string Operator, Expr Operand)> Rest, int Line, int Column) : Expr(Line, Column);

internal sealed record ConcatExpr(IReadOnlyList<Expr> Parts, int Line, int Column) : Expr(Line, Column);

internal sealed record ConditionalExpr(Expr Test, Expr Then, Expr? Else, int Line, int Column) : Expr(Line, Column);
