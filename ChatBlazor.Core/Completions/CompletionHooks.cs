using ChatBlazor.Core.Usage;
using ChatBlazor.Inference.Contracts;

namespace ChatBlazor.Core.Completions;

/// <summary>Hears every completion once, after its usage row is written: where billing meters tokens.</summary>
public interface IUsageMeter
{
    Task RecordAsync(UsageRecord usage, CancellationToken ct);
}
