using System.Runtime.InteropServices;
using ChatBlazor.Inference.Kernels;

namespace ChatBlazor.Inference.Tests.Kernels;

public unsafe class KernelThreadsTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(7, 3)]
    [InlineData(1000, 2)]
    [InlineData(1000, 8)]
    [InlineData(1000, 1)]
    public void ForCallsTheBodyExactlyOnceForEveryItem(int items, int maxThreads)
    {
        using var log = new Log(items);

        KernelThreads.For(items, &Record, log.State, maxThreads);

        Assert.All(log.Calls, calls => Assert.Equal(1, calls));
    }

    [Fact]
    public void ForOnOneThreadOrOneItemRunsOnTheCaller()
    {
        using var single = new Log(5);
        using var lone = new Log(1);

        KernelThreads.For(5, &Record, single.State, maxThreads: 1);
        KernelThreads.For(1, &Record, lone.State, maxThreads: 4);

        Assert.All(single.ThreadIds.Concat(lone.ThreadIds), id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void AWorkerTakesItemsWhileTheCallerIsBusy()
    {
        // Each of the two items waits until both have started, which can only happen on two threads at
        // once. The limit just turns a broken pool into a failure instead of a hang.
        using var log = new Log(2) { WaitForAllToStart = TimeSpan.FromSeconds(30) };

        KernelThreads.For(2, &Record, log.State, maxThreads: 2);

        Assert.False(log.TimedOut, "the second item never ran beside the first");
        Assert.NotEqual(log.ThreadIds[0], log.ThreadIds[1]);
    }

    [Fact]
    public void ForUsesCountAsTheThreadLimitWhenNotTold()
    {
        // 1000 slow-ish items (a few ms in all): were the limit ignored, a worker would take some.
        using var log = new Log(1000) { SpinPerItem = 1000 };
        var before = KernelThreads.Count;
        try
        {
            KernelThreads.Count = 1;
            KernelThreads.For(1000, &Record, log.State);
        }
        finally
        {
            KernelThreads.Count = before;
        }

        Assert.All(log.ThreadIds, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public void CountDefaultsToTheProcessorCountAndRejectsLessThanOne()
    {
        // Other tests change Count only inside try/finally, within this (serial) class.
        Assert.Equal(Environment.ProcessorCount, KernelThreads.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.Count = 0);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(63)]
    public void AnExceptionReachesTheCallerOnlyAfterEveryItemInFlightHasFinished(int failingItem)
    {
        using var log = new Log(64) { FailingItem = failingItem };

        var thrown = Assert.Throws<InvalidOperationException>(() => KernelThreads.For(64, &Record, log.State, 4));

        Assert.Equal($"item {failingItem} failed", thrown.Message);
        Assert.Equal(log.Started, log.Finished);

        // The pool is still usable afterwards.
        using var next = new Log(8);
        KernelThreads.For(8, &Record, next.State, 4);
        Assert.All(next.Calls, calls => Assert.Equal(1, calls));
    }

    [Fact]
    public void AForInsideABodyRunsItsItemsOnThatThread()
    {
        using var log = new Log(3 * 4);

        KernelThreads.For(3, &RunNested, log.State, 3);

        Assert.All(log.Calls, calls => Assert.Equal(1, calls));
        Assert.Equal(0, log.Strays);
    }

    [Fact]
    public void ConcurrentCallersEachGetAllOfTheirItemsDone()
    {
        const int callers = 4, loopsEach = 200, items = 5;

        var complete = new bool[callers];
        Parallel.For(0, callers, new ParallelOptions { MaxDegreeOfParallelism = callers }, caller =>
        {
            complete[caller] = true;
            for (var loop = 0; loop < loopsEach; loop++)
            {
                using var log = new Log(items);
                KernelThreads.For(items, &Record, log.State, 3);
                complete[caller] &= log.Calls.All(calls => calls == 1);
            }
        });

        Assert.All(complete, Assert.True);
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        using var log = new Log(1);
        var state = log.State;

        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.For(-1, &Record, state));
        Assert.Throws<ArgumentOutOfRangeException>(() => KernelThreads.For(1, &Record, state, maxThreads: 0));
        Assert.Throws<ArgumentNullException>(() => KernelThreads.For(1, null, state));
    }

    private static void Record(void* state, int item)
    {
        var log = (LogState*)state;
        var started = Interlocked.Increment(ref log->Started);
        log->ThreadIds[item] = Environment.CurrentManagedThreadId;
        try
        {
            if (item == log->FailingItem)
                throw new InvalidOperationException($"item {item} failed");

            if (log->WaitTicks > 0 && !SpinWait.SpinUntil(() => Volatile.Read(ref log->Started) == log->Items, TimeSpan.FromTicks(log->WaitTicks)))
                log->TimedOut = true;

            // Items in flight when another fails finish late: a For that returned without waiting for
            // them would see Started != Finished.
            if (log->FailingItem >= 0 && started > 1)
                Thread.SpinWait(20_000);
            Thread.SpinWait(log->SpinPerItem);
            Interlocked.Increment(ref log->Calls[item]);
        }
        finally
        {
            Interlocked.Increment(ref log->Finished);
        }
    }

    // Outer item i runs 4 nested items, logged as items 4i..4i+3, which must stay on i's thread.
    private static void RunNested(void* state, int item)
    {
        var nested = new NestedState { Log = (LogState*)state, Outer = item, ThreadId = Environment.CurrentManagedThreadId };
        KernelThreads.For(4, &RecordNested, &nested, 4);
    }

    private static void RecordNested(void* state, int item)
    {
        var nested = (NestedState*)state;
        Interlocked.Increment(ref nested->Log->Calls[nested->Outer * 4 + item]);
        if (Environment.CurrentManagedThreadId != nested->ThreadId)
            Interlocked.Increment(ref nested->Log->Strays);
    }

    private struct NestedState
    {
        public LogState* Log;
        public int Outer;
        public int ThreadId;
    }

    private struct LogState
    {
        public int Items;
        public int* Calls;
        public int* ThreadIds;
        public int Strays;
        public int SpinPerItem;
        public int Started;
        public int Finished;
        public int FailingItem;
        public long WaitTicks;
        public bool TimedOut;
    }

    /// <summary>What the body saw, in native memory so worker threads can write it through a pointer.</summary>
    private sealed class Log : IDisposable
    {
        private readonly LogState* _state;

        public Log(int items)
        {
            _state = (LogState*)NativeMemory.AllocZeroed((nuint)sizeof(LogState));
            _state->Items = items;
            _state->Calls = (int*)NativeMemory.AllocZeroed((nuint)Math.Max(1, items), sizeof(int));
            _state->ThreadIds = (int*)NativeMemory.AllocZeroed((nuint)Math.Max(1, items), sizeof(int));
            _state->FailingItem = -1;
        }

        public void* State => _state;

        public int FailingItem { init => _state->FailingItem = value; }

        public TimeSpan WaitForAllToStart { init => _state->WaitTicks = value.Ticks; }

        public int SpinPerItem { init => _state->SpinPerItem = value; }

        public int Strays => _state->Strays;

        public int[] Calls => new Span<int>(_state->Calls, _state->Items).ToArray();

        public int[] ThreadIds => new Span<int>(_state->ThreadIds, _state->Items).ToArray();

        public int Started => Volatile.Read(ref _state->Started);

        public int Finished => Volatile.Read(ref _state->Finished);

        public bool TimedOut => _state->TimedOut;

        public void Dispose()
        {
            NativeMemory.Free(_state->Calls);
            NativeMemory.Free(_state->ThreadIds);
            NativeMemory.Free(_state);
        }
    }
}
