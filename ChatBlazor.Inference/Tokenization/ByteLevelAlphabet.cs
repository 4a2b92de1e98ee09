namespace ChatBlazor.Inference.Tokenization;

/// <summary>
/// GPT-2's reversible byte ↔ character table (bytes_to_unicode). Byte-level vocabularies spell every token
/// with these 256 printable characters, so a token never contains a raw space, control byte or half of a
/// multi-byte character.
/// </summary>
internal static class ByteLevelAlphabet
{
    public static readonly char[] ByteToChar = BuildByteToChar();

    // The table's characters all lie below U+0144, so a flat array beats a dictionary on the decode path.
    private static readonly short[] CharToByteTable = BuildCharToByte();

    public static bool TryGetByte(char c, out byte value)
    {
        if (c < CharToByteTable.Length && CharToByteTable[c] >= 0)
        {
            value = (byte)CharToByteTable[c];
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>Maps the UTF-8 bytes of <paramref name="text"/> to their byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<char> text)
    {
        var byteCount = System.Text.Encoding.UTF8.GetByteCount(text);
        Span<byte> bytes = byteCount <= 256 ? stackalloc byte[byteCount] : new byte[byteCount];
        System.Text.Encoding.UTF8.GetBytes(text, bytes);
        Span<char> chars = byteCount <= 256 ? stackalloc char[byteCount] : new char[byteCount];
        for (var i = 0; i < byteCount; i++)
            chars[i] = ByteToChar[bytes[i]];
        return new string(chars);
    }

    private static char[] BuildByteToChar()
    {
        // Printable Latin-1 bytes keep their own character; the other 68 bytes are moved up to U+0100.. in
        // byte order. This is the exact order GPT-2 used, and every byte-level vocabulary since copies it.
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= '¡' && b <= '¬') || (b >= '®' && b <= 'ÿ');
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[ByteToChar.Max() + 1];
        Array.Fill(table, (short)-1);
        for (var b = 0; b < 256; b++)
            table[ByteToChar[b]] = (short)b;
        return table;
    }
}
