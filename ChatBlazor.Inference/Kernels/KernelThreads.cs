using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// A small persistent pool that spreads the items of a loop over the calling thread and a few workers.
/// </summary>
/// <remarks>
/// <para>A batch-1 decode step makes ~210 matrix-vector calls of 10 µs to 1 ms each, so dispatch has to
/// cost about a microsecond. Parallel.For measured ~3 µs back to back on 2 cores (and allocates), far
/// more once its threads have parked; here the workers spin on a shared job word for a while after each
/// job and only then sleep on a monitor: ~0.1 µs over the work itself, back to back.</para>
/// <para>Items are claimed one at a time from a shared counter, and a worker that has not joined by the
/// time the caller runs out of items is not waited for. The cores are shared with a web server, torch's
/// own threads and other processes, so a worker is now and then preempted for milliseconds: with a fixed
/// split the caller would wait for that worker's share (a first version did, and averaged 47 µs per
/// empty call while another process kept one core busy); this way it does that share itself.</para>
/// </remarks>
public static unsafe class KernelThreads
{
    // After a job a worker first spins hard (back-to-back calls start within a microsecond), then keeps
    // checking between sched_yield calls, which hand the core to any other runnable thread, so that the
    // gaps of a decode step (norms, rotary, attention through torch: up to a few hundred µs) do not
    // cost a wake-up (tens of µs in a VM); after that it sleeps, so an idle engine stops using the cores.
    private const long HardSpinMicroseconds = 20;
    private const long YieldingSpinMicroseconds = 1000;

    // _job is generation << 16 | worker slots still open. One word, so a worker that reads it knows both
    // which job it sees and whether it may still join, and joining is one compare-and-swap.
    private const int SlotBits = 16;
    private const long SlotMask = (1 << SlotBits) - 1;
    private const int MaxThreads = 1 << 10;

    private static readonly object _dispatchLock = new();
    private static readonly object _sleepLock = new();
    private static readonly List<Thread> _workers = [];
    private static readonly long _hardSpinTicks = HardSpinMicroseconds * Stopwatch.Frequency / 1_000_000;
    private static readonly long _yieldingSpinTicks = YieldingSpinMicroseconds * Stopwatch.Frequency / 1_000_000;

    private static int _count = Environment.ProcessorCount;

    // The job in flight. Written by the dispatching thread before it publishes _job; read only by
    // workers that won a slot, and left alone until every one of those has finished (_active == 0).
    private static delegate*<void*, int, void> _body;
    private static void* _state;
    private static int _itemCount;
    private static int _nextItem;

    private static long _job;
    private static int _active;
    private static int _sleepers;
    private static ExceptionDispatchInfo? _failure;

    // Set on workers for good and on a dispatching thread while it runs items: a body that itself calls
    // For then runs its items inline instead of deadlocking on _dispatchLock.
    [ThreadStatic]
    private static bool _insideFor;

    /// <summary>
    /// How many threads <see cref="For(int, delegate*{void*, int, void}, void*)"/> uses at most, the
    /// caller included. Defaults to <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public static int Count
    {
        get => Volatile.Read(ref _count);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxThreads);
            Volatile.Write(ref _count, value);
        }
    }

    /// <summary>As <see cref="For(int, delegate*{void*, int, void}, void*, int)"/> on up to <see cref="Count"/> threads.</summary>
    public static void For(int items, delegate*<void*, int, void> body, void* state) =>
        For(items, body, state, Count);

    /// <summary>
    /// Calls <c>body(state, item)</c> once for every item in [0, <paramref name="items"/>), on the calling
    /// thread and up to <paramref name="maxThreads"/> − 1 pool workers, and returns when all calls have
    /// returned. If any threw, the first exception is rethrown (and some items may not have run).
    /// </summary>
    /// <remarks>
    /// Items go to whichever thread asks next, so they should be worth more than the ~0.1 µs that
    /// asking costs, and no assumption may be made about which thread runs which. <paramref name="state"/>
    /// only has to outlive this call, so a local struct on the caller's stack is fine. One loop runs at a
    /// time: concurrent callers queue on a lock. A body that calls For again runs the nested items itself.
    /// </remarks>
    public static void For(int items, delegate*<void*, int, void> body, void* state, int maxThreads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(items);
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxThreads, MaxThreads);

        var workers = Math.Min(maxThreads, items) - 1;
        if (workers <= 0 || _insideFor)
        {
            for (var item = 0; item < items; item++)
                body(state, item);
            return;
        }

        lock (_dispatchLock)
        {
            EnsureWorkers(workers);
            _body = body;
            _state = state;
            _itemCount = items;
            _nextItem = 0;
            var generation = (Volatile.Read(ref _job) >> SlotBits) + 1;
            // A full fence: the fields above become visible before the job word, and the read of _sleepers
            // below cannot move above it (a worker going to sleep does the mirror image).
            Interlocked.Exchange(ref _job, generation << SlotBits | (long)workers);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepLock)
                    Monitor.PulseAll(_sleepLock);

            _insideFor = true;
            try
            {
                RunItems();
            }
            finally
            {
                _insideFor = false;
                // Close the slots nobody took, then wait only for workers that did: state may live on our
                // stack, and the fields above must stay theirs until they are done.
                Interlocked.Exchange(ref _job, generation << SlotBits);
                var spinner = new SpinWait();
                while (Volatile.Read(ref _active) != 0)
                    spinner.SpinOnce(sleep1Threshold: -1);
            }

            if (_failure is { } failure)
            {
                _failure = null;
                failure.Throw();
            }
        }
    }

    private static void RunItems()
    {
        while (true)
        {
            var item = Interlocked.Increment(ref _nextItem) - 1;
            if (item >= _itemCount)
                return;
            _body(_state, item);
        }
    }

    private static void EnsureWorkers(int needed)
    {
        while (_workers.Count < needed)
        {
            // A new worker must treat the job about to be published as new, so it starts from the current
            // generation rather than reading one that may already include that job.
            var seen = Volatile.Read(ref _job) >> SlotBits;
            var worker = new Thread(() => WorkerLoop(seen))
            {
                IsBackground = true,
                Name = $"KernelThreads #{_workers.Count + 1}",
            };
            // Without the caller's execution context: a worker lives for the process, and would otherwise keep the
            // async-locals of whichever flow first needed it (a request's Activity, a test's forced kernel path).
            if (ExecutionContext.IsFlowSuppressed())
                worker.Start();
            else
                using (ExecutionContext.SuppressFlow())
                    worker.Start();
            _workers.Add(worker);
        }
    }

    private static void WorkerLoop(long seen)
    {
        _insideFor = true;
        while (true)
        {
            seen = WaitForJobAfter(seen);

            // Counted as active before claiming a slot, so a caller that closes the slots and then sees
            // _active == 0 knows no one can still be joining its job.
            Interlocked.Increment(ref _active);
            try
            {
                if (TryJoin(seen))
                    RunItems();
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(exception), null);
            }
            finally
            {
                Interlocked.Decrement(ref _active);
            }
        }
    }

    private static bool TryJoin(long generation)
    {
        while (true)
        {
            var job = Volatile.Read(ref _job);
            if (job >> SlotBits != generation || (job & SlotMask) == 0)
                return false;
            if (Interlocked.CompareExchange(ref _job, job - 1, job) == job)
                return true;
        }
    }

    private static long WaitForJobAfter(long generation)
    {
        var idleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            var current = Volatile.Read(ref _job) >> SlotBits;
            if (current != generation)
                return current;
            var idle = Stopwatch.GetTimestamp() - idleSince;
            if (idle < _hardSpinTicks)
                Thread.SpinWait(8);
            else if (idle < _yieldingSpinTicks)
                Thread.Yield();
            else
                break;
        }

        lock (_sleepLock)
        {
            // Full fence, then re-read: either the caller sees us counted and pulses, or we see its job.
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (true)
                {
                    var current = Volatile.Read(ref _job) >> SlotBits;
                    if (current != generation)
                        return current;
                    Monitor.Wait(_sleepLock);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _sleepers);
            }
        }
    }
}
