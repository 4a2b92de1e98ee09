namespace ChatBlazor.Core.Data;

/// <summary>ILIKE patterns from what a user typed: their % and _ are literal (escaped with \).</summary>
public static class Like
{
    public static string Containing(string text) => "%" + Escape(text.Trim()) + "%";

    public static string Escape(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
