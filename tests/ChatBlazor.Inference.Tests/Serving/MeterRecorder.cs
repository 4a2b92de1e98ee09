using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ChatBlazor.Inference.Tests.Serving;

/// <summary>
/// Sums the integer measurements of one <see cref="Meter"/> instance, per instrument and model, from when it starts:
/// one engine's figures, apart from the other engines the test process runs at the same time.
/// </summary>
internal sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string? Model), long> _sums = new();

    public MeterRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string? model = null;
            foreach (var tag in tags)
                if (tag.Key == "model_name")
                    model = tag.Value as string;
            _sums.AddOrUpdate((instrument.Name, model), value, (_, sum) => sum + value);
        });
        _listener.Start();
    }

    public long Sum(string instrument, string model) => _sums.GetValueOrDefault((instrument, model));

    public void Dispose() => _listener.Dispose();
}
