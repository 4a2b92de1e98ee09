namespace ChatBlazor.Core.Moderation;

/// <summary>
/// One moderation rule as data: the built-in defaults are written in code, and admins edit copies of them (and add
/// their own regex rules) in PostgreSQL, applied on every instance without a restart.
/// </summary>
/// <param name="Id">Stable, dotted: <c>pii.card</c>, <c>secret.aws-access-key</c>, <c>jailbreak.override</c>.</param>
/// <param name="Category">One of <see cref="ModerationCategories"/>.</param>
/// <param name="Kind">How it matches: <c>regex</c> (the <paramref name="Pattern"/> alone) or a built-in kind whose
/// code adds what a regex cannot say (a checksum, decoding); the rule detector lists the kinds it knows.</param>
/// <param name="Pattern">A .NET regular expression; null for built-in kinds that need none.</param>
/// <param name="Placeholder">What replaces a match when the policy redacts (<c>[CARD]</c>); null for rules about the whole text.</param>
public sealed record ModerationRule(string Id, string Category, string Kind, string? Pattern, string? Placeholder, bool Enabled = true);
