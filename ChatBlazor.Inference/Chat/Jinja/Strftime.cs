using System.Globalization;
using System.Text;

namespace ChatBlazor.Inference.Chat.Jinja;

/// <summary>
/// Python's <c>datetime.strftime</c> in the C locale (English names), for <c>strftime_now</c>.
/// Supports glibc's <c>%-d</c> style "no padding" flag, which Linux Python passes through.
/// </summary>
internal static class Strftime
{
    public static string Format(DateTime time, string format)
    {
        var invariant = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var noPad = format[i + 1] == '-' && i + 2 < format.Length;
            var directive = format[noPad ? i + 2 : i + 1];
            string Pad(int value, int width) => noPad ? value.ToString(invariant) : value.ToString(new string('0', width), invariant);

            string? text = directive switch
            {
                'a' => time.ToString("ddd", invariant),
                'A' => time.ToString("dddd", invariant),
                'b' or 'h' => time.ToString("MMM", invariant),
                'B' => time.ToString("MMMM", invariant),
                'd' => Pad(time.Day, 2),
                'e' => noPad ? time.Day.ToString(invariant) : time.Day.ToString(invariant).PadLeft(2),
                'm' => Pad(time.Month, 2),
                'y' => Pad(time.Year % 100, 2),
                'Y' => time.Year.ToString(invariant),
                'H' => Pad(time.Hour, 2),
                'I' => Pad(time.Hour % 12 == 0 ? 12 : time.Hour % 12, 2),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'M' => Pad(time.Minute, 2),
                'S' => Pad(time.Second, 2),
                'f' => ((time.Ticks % TimeSpan.TicksPerSecond) / 10).ToString("000000", invariant),
                'j' => Pad(time.DayOfYear, 3),
                'F' => Format(time, "%Y-%m-%d"),
                'D' or 'x' => Format(time, "%m/%d/%y"),
                'T' or 'X' => Format(time, "%H:%M:%S"),
                'R' => Format(time, "%H:%M"),
                'c' => Format(time, "%a %b %e %H:%M:%S %Y"),
                'Z' or 'z' => "",
                '%' => "%",
                _ => null,
            };

            if (text is null)
            {
                sb.Append('%');
                continue;
            }
            sb.Append(text);
            i += noPad ? 2 : 1;
        }
        return sb.ToString();
    }
}
