namespace ChatBlazor.E2E.Load;

/// <summary>CPU time from /proc (Linux): of given processes, and of the whole machine, to tell where a limit comes from.</summary>
public static class ProcessCpu
{
    // USER_HZ: the unit of /proc's CPU times; 100 on every Linux this project runs on (sysconf(_SC_CLK_TCK)).
    private const double TicksPerSecond = 100;

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return ""; // gone meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>User and system CPU seconds the processes have used so far (a process gone meanwhile counts nothing).</summary>
    public static double Seconds(IEnumerable<int> pids) => pids.Sum(pid =>
    {
        try
        {
            // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are 14th and 15th.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12])) / TicksPerSecond;
        }
        catch (IOException)
        {
            return 0;
        }
    });

    /// <summary>The machine's busy and total CPU time so far, in ticks of all cores (the first line of /proc/stat).</summary>
    public static (long Busy, long Total) Machine()
    {
        var ticks = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = ticks[3] + ticks[4]; // idle, iowait
        var total = ticks.Take(8).Sum(); // user … steal; guest time is already in user
        return (total - idle, total);
    }
}
