using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// A small persistent pool that splits one piece of work across threads, the caller included.
/// </summary>
/// <remarks>
/// A batch-1 decode step makes ~210 matrix-vector calls of 30 µs to 1 ms each, so dispatch has to cost a
/// few microseconds. Parallel.For and the thread pool cost tens of microseconds (queueing, work stealing,
/// wake-ups), so instead the workers here spin on a shared job word for a short while after each job and
/// only then sleep on a monitor. Back-to-back calls therefore start with a couple of cache-line transfers;
/// a call after an idle pause pays one wake-up.
/// </remarks>
public static unsafe class KernelThreads
{
    // Long enough to bridge the gaps between the matrix products of a decode step (norms, rotary,
    // attention: tens of microseconds), short enough that an idle engine stops burning the cores that
    // torch and the web server share.
    private const long SpinMicroseconds = 200;

    // Bit layout of _job: generation << 16 | threadCount. One word, so a worker that reads it knows both
    // that a new job exists and whether it takes part, without a torn read of two fields.
    private const int ThreadCountBits = 16;
    private const int MaxThreads = (1 << ThreadCountBits) - 1;

    private static readonly object _dispatchLock = new();
    private static readonly object _sleepLock = new();
    private static readonly List<Thread> _workers = [];
    private static readonly long _spinTicks = SpinMicroseconds * Stopwatch.Frequency / 1_000_000;

    private static int _count = Environment.ProcessorCount;

    // The job in flight. Written by the dispatching thread before it publishes _job; read by workers after
    // they see it, and stable until every taking part has decremented _pending (Run waits for that).
    private static delegate*<void*, int, int, void> _body;
    private static void* _state;
    private static long _job;
    private static int _pending;
    private static int _sleepers;
    private static ExceptionDispatchInfo? _failure;

    // Set on workers for good and on a dispatching thread while it runs its share: a body that itself
    // calls Run then does that work inline instead of deadlocking on _dispatchLock.
    [ThreadStatic]
    private static bool _insideRun;

    /// <summary>How many threads <see cref="Run(delegate*{void*, int, int, void}, void*)"/> uses, the caller included.</summary>
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

    /// <summary>Runs <paramref name="body"/> on <see cref="Count"/> threads; see <see cref="Run(delegate*{void*, int, int, void}, void*, int)"/>.</summary>
    public static void Run(delegate*<void*, int, int, void> body, void* state) => Run(body, state, Count);

    /// <summary>
    /// Calls <c>body(state, threadIndex, threadCount)</c> once for each threadIndex in [0, threadCount):
    /// index 0 on the calling thread, the others on pool workers. Returns when all calls have returned;
    /// if any threw, rethrows the first exception after all have finished.
    /// </summary>
    /// <remarks>
    /// <paramref name="state"/> is handed to every call as is; it only has to outlive this method, so a
    /// local struct on the caller's stack is fine. One job runs at a time: concurrent callers queue on a
    /// lock. A body that calls Run again gets its nested work run inline on its own thread, as
    /// <c>body(state, 0, 1)</c>.
    /// </remarks>
    public static void Run(delegate*<void*, int, int, void> body, void* state, int threadCount)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(threadCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(threadCount, MaxThreads);

        if (threadCount == 1 || _insideRun)
        {
            body(state, 0, 1);
            return;
        }

        lock (_dispatchLock)
        {
            EnsureWorkers(threadCount - 1);
            _body = body;
            _state = state;
            _pending = threadCount - 1;
            var generation = (Volatile.Read(ref _job) >> ThreadCountBits) + 1;
            // A full fence: the job fields above become visible before the job word, and the read of
            // _sleepers below cannot move above it (a sleeping worker does the mirror image).
            Interlocked.Exchange(ref _job, generation << ThreadCountBits | (long)threadCount);
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepLock)
                    Monitor.PulseAll(_sleepLock);

            _insideRun = true;
            try
            {
                body(state, 0, threadCount);
            }
            finally
            {
                _insideRun = false;
                // Even if our share threw: state may live on our stack, so no worker may still be using it.
                WaitForWorkers();
            }

            if (_failure is { } failure)
            {
                _failure = null;
                failure.Throw();
            }
        }
    }

    private static void WaitForWorkers()
    {
        // The workers' shares take as long as ours, so this is usually a short spin. SpinWait yields the
        // core now and then, which matters when a worker was preempted by another process.
        var spinner = new SpinWait();
        while (Volatile.Read(ref _pending) != 0)
            spinner.SpinOnce(sleep1Threshold: -1);
    }

    private static void EnsureWorkers(int needed)
    {
        while (_workers.Count < needed)
        {
            // A new worker must treat the job about to be published as new, so it starts from the current
            // generation rather than reading one that may already include that job.
            var index = _workers.Count + 1;
            var seen = Volatile.Read(ref _job) >> ThreadCountBits;
            var worker = new Thread(() => WorkerLoop(index, seen))
            {
                IsBackground = true,
                Name = $"KernelThreads #{index}",
            };
            worker.Start();
            _workers.Add(worker);
        }
    }

    private static void WorkerLoop(int index, long seen)
    {
        _insideRun = true;
        while (true)
        {
            var job = WaitForJobAfter(seen);
            seen = job >> ThreadCountBits;
            var threadCount = (int)(job & MaxThreads);
            if (index >= threadCount)
                continue;

            try
            {
                _body(_state, index, threadCount);
            }
            catch (Exception exception)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(exception), null);
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }

    private static long WaitForJobAfter(long generation)
    {
        var spinUntil = Stopwatch.GetTimestamp() + _spinTicks;
        while (true)
        {
            var job = Volatile.Read(ref _job);
            if (job >> ThreadCountBits != generation)
                return job;
            if (Stopwatch.GetTimestamp() > spinUntil)
                break;
            Thread.SpinWait(8);
        }

        lock (_sleepLock)
        {
            // Full fence, then re-read: either Run sees us counted and pulses, or we see its job here.
            Interlocked.Increment(ref _sleepers);
            try
            {
                while (true)
                {
                    var job = Volatile.Read(ref _job);
                    if (job >> ThreadCountBits != generation)
                        return job;
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
