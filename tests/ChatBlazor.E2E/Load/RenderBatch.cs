using System.Buffers.Binary;
using System.Text;

namespace ChatBlazor.E2E.Load;

/// <summary>
/// What a load client needs from one of the circuit's render batches (the binary JS.RenderBatch payload): the
/// reference frames that carry strings. The layout is the one blazor.web.js reads: the batch ends with five int32
/// offsets (updated components, reference frames, disposed component ids, disposed event handler ids, string table);
/// a frame is 20 bytes, its type first; a string is a LEB128 byte count and UTF-8.
/// </summary>
public sealed class RenderBatch
{
    private const int FrameLength = 20;
    private const int TextFrame = 2, AttributeFrame = 3, MarkupFrame = 8;

    /// <summary>An attribute as the batch writes it; Previous is the attribute written just before it in the same run of frames.</summary>
    public sealed record Attribute(string Name, string? Value, Attribute? Previous);

    public List<Attribute> Attributes { get; } = [];
    public List<string> Markup { get; } = [];
    public List<string> Texts { get; } = [];

    public static RenderBatch Read(byte[] data)
    {
        var batch = new RenderBatch();
        var stringTable = Int(data, data.Length - 4);
        var frames = Int(data, data.Length - 16);
        var count = Int(data, frames);
        Attribute? previous = null;
        for (var i = 0; i < count; i++)
        {
            var frame = frames + 4 + i * FrameLength;
            switch (Int(data, frame))
            {
                case AttributeFrame when String(data, stringTable, Int(data, frame + 4)) is { } name:
                    previous = new Attribute(name, String(data, stringTable, Int(data, frame + 8)), previous);
                    batch.Attributes.Add(previous);
                    continue;
                case MarkupFrame when String(data, stringTable, Int(data, frame + 4)) is { } markup:
                    batch.Markup.Add(markup);
                    break;
                case TextFrame when String(data, stringTable, Int(data, frame + 4)) is { } text:
                    batch.Texts.Add(text);
                    break;
            }
            previous = null; // attributes follow their element: another frame ends the run
        }
        return batch;
    }

    private static int Int(byte[] data, int at) => BinaryPrimitives.ReadInt32LittleEndian(data.AsSpan(at, 4));

    private static string? String(byte[] data, int table, int index)
    {
        if (index == -1)
            return null;
        var at = Int(data, table + index * 4);
        var (length, shift) = (0, 0);
        byte b;
        do
        {
            b = data[at++];
            length |= (b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return Encoding.UTF8.GetString(data, at, length);
    }
}
