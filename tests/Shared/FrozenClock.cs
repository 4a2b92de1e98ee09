namespace ChatBlazor.Testing;

/// <summary>
/// Test double: a clock that stands still a few minutes ahead of real time, so a burst of requests never straddles
/// two rate-limit windows, and Redis, which expires a window's keys by its own real clock, keeps them meanwhile.
/// </summary>
public sealed class FrozenClock : TimeProvider
{
    private readonly DateTimeOffset _now = System.GetUtcNow().AddMinutes(3);
    public override DateTimeOffset GetUtcNow() => _now;
}
