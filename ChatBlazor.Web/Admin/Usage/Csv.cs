using System.Globalization;
using System.Text;

namespace ChatBlazor.Web.Admin.Usage;

/// <summary>
/// RFC 4180 CSV: a field with a comma, quote or line break is quoted, its quotes doubled. A text field that a
/// spreadsheet would run as a formula (=, +, −, @, tab, CR first) gets a leading apostrophe: an email such as
/// <c>=HYPERLINK(…)@x.org</c> stays text when an admin opens the file.
/// </summary>
public sealed class Csv
{
    private readonly StringBuilder _text = new();

    public Csv(params string[] header) => Row(header.Select(Text).ToArray());

    public int Rows { get; private set; } = -1; // the header is not a row

    public void Row(params string[] fields)
    {
        _text.AppendJoin(',', fields).Append("\r\n");
        Rows++;
    }

    /// <summary>A text cell: neutralised, then quoted when it needs to be.</summary>
    public static string Text(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }

    public static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Number(int? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "";

    public static string Date(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public byte[] ToBytes() => Encoding.UTF8.GetBytes(_text.ToString());

    public override string ToString() => _text.ToString();
}
