namespace ChatBlazor.Inference.Sampling;

/// <summary>
/// Finds stop sequences in streamed text, however the tokens split them. Text that might be the start of a stop
/// sequence is held back until the next piece shows whether it is; the stop sequence itself is never released.
/// </summary>
public sealed class StopMatcher(IReadOnlyList<string> stops)
{
    private string _held = "";

    public bool Stopped { get; private set; }

    /// <summary>Returns the text that is now safe to show; sets <see cref="Stopped"/> when a stop sequence appeared.</summary>
    public string Push(string text)
    {
        if (Stopped)
            return "";
        if (stops.Count == 0)
            return text;
        var pending = _held + text;
        var cut = -1;
        foreach (var stop in stops)
        {
            var at = pending.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (cut < 0 || at < cut))
                cut = at;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _held = "";
            return pending[..cut];
        }
        var keep = LongestStopPrefixAtEnd(pending);
        _held = pending[^keep..];
        return pending[..^keep];
    }

    /// <summary>At the end of generation, what was held back was not a stop sequence after all.</summary>
    public string Flush()
    {
        var rest = _held;
        _held = "";
        return Stopped ? "" : rest;
    }

    private int LongestStopPrefixAtEnd(string text)
    {
        var longest = 0;
        foreach (var stop in stops)
            for (var length = Math.Min(stop.Length - 1, text.Length); length > longest; length--)
                if (text.AsSpan(text.Length - length).SequenceEqual(stop.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
        return longest;
    }
}
