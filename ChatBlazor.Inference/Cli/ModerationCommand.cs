using System.Diagnostics;
using ChatBlazor.Inference.Moderation;
using ChatBlazor.Inference.Moderation.Data;

namespace ChatBlazor.Inference.Cli;

/// <summary>
/// <c>moderation-train</c>: generates the moderation data, embeds it with MiniLM, trains the head on the train split,
/// picks thresholds on the validation split and reports on the held-out split. <c>moderation-eval</c>: the held-out
/// report and per-message latency of a head (the shipped one by default).
/// </summary>
internal static class ModerationCommand
{
    public static int Train(Args args)
    {
        var output = args.Required("out");
        var seed = args.Int("seed") ?? 0;
        var defaults = new HeadTrainingSettings();
        var settings = defaults with
        {
            Hidden = args.Int("hidden") ?? defaults.Hidden,
            Epochs = args.Int("epochs") ?? defaults.Epochs,
            WeightDecay = (float?)args.Double("weight-decay") ?? defaults.WeightDecay,
        };
        if (settings.Hidden < 1 || settings.Epochs < 1)
            throw new UsageException("--hidden and --epochs must be positive");

        var examples = ModerationData.Generate(seed);
        using var encoder = MiniLmEncoder.Load();
        Console.Error.WriteLine($"embedding {examples.Count} examples…");
        var embeddings = examples.Select(e => encoder.Embed(e.Text)).ToArray();
        var categories = ModerationCorpusCategories();

        var train = Indices(examples, ModerationSplit.Train);
        Console.Error.WriteLine($"training a {settings.Hidden}-unit head on {train.Length} examples for {settings.Epochs} epochs (seed {seed})…");
        var head = HeadTrainer.Train(
            train.Select(i => embeddings[i]).ToArray(),
            train.Select(i => ModerationEvaluation.Targets(examples[i], categories)).ToArray(),
            categories, settings, seed,
            (epoch, loss) => { if (epoch % 10 == 0 || epoch == 1) Console.Error.WriteLine($"  epoch {epoch}: loss {loss:F4}"); });

        var validation = Indices(examples, ModerationSplit.Validation);
        var thresholds = ModerationEvaluation.ChooseThresholds(
            validation.Select(i => examples[i]).ToArray(), validation.Select(i => head.Score(embeddings[i])).ToArray(), categories);
        foreach (var (category, threshold) in thresholds)
            head.Thresholds[category] = threshold;
        head.Save(output);
        Console.Error.WriteLine($"wrote {output} ({new FileInfo(output).Length / 1024} KiB, {head.ParameterCount:N0} parameters)");

        var heldOut = Indices(examples, ModerationSplit.HeldOut);
        PrintReport(ModerationEvaluation.Evaluate(
            heldOut.Select(i => examples[i]).ToArray(), heldOut.Select(i => head.Score(embeddings[i])).ToArray(), head), examples);
        return 0;
    }

    public static int Eval(Args args)
    {
        var seed = args.Int("seed") ?? 0;
        var head = args.String("head") is { } path ? LoadHead(path) : MiniLmModerationClassifier.LoadShippedHead();
        var load = Stopwatch.StartNew();
        using var classifier = new MiniLmModerationClassifier(MiniLmEncoder.Load(), head);
        Console.Error.WriteLine($"encoder loaded in {load.Elapsed.TotalSeconds:F2} s");
        var examples = ModerationData.Generate(seed);
        var heldOut = examples.Where(e => e.Split == ModerationSplit.HeldOut).ToArray();

        // Latency per message, end to end (tokenise, encode, head), one thread, after a warm-up.
        foreach (var e in heldOut.Take(20))
            classifier.Score(e.Text);
        var timings = new List<double>();
        var scores = new List<float[]>();
        // CPU time as well as wall time: on a shared machine the wall clock includes waiting for a core.
        var cpuBefore = Environment.CpuUsage.TotalTime;
        foreach (var e in heldOut)
        {
            var watch = Stopwatch.StartNew();
            var result = classifier.Score(e.Text);
            timings.Add(watch.Elapsed.TotalMilliseconds);
            scores.Add(head.Categories.Select(c => result[c]).ToArray());
        }
        var cpuPerMessage = (Environment.CpuUsage.TotalTime - cpuBefore).TotalMilliseconds / heldOut.Length;
        PrintReport(ModerationEvaluation.Evaluate(heldOut, scores, head), examples);

        var longTimings = new List<double>();
        var longText = string.Join(" ", Enumerable.Repeat("The quarterly report covers revenue, costs, hiring plans and the roadmap for the next two releases of the product.", 60));
        var longCpuBefore = Environment.CpuUsage.TotalTime;
        for (var i = 0; i < 50; i++)
        {
            var watch = Stopwatch.StartNew();
            classifier.Score(longText + $" ({i})");
            longTimings.Add(watch.Elapsed.TotalMilliseconds);
        }
        var longCpu = (Environment.CpuUsage.TotalTime - longCpuBefore).TotalMilliseconds / 50;
        Console.WriteLine();
        Console.WriteLine($"latency per held-out message ({timings.Count} messages): p50 {Percentile(timings, 50):F2} ms, p99 {Percentile(timings, 99):F2} ms, max {timings.Max():F2} ms; mean CPU time {cpuPerMessage:F2} ms");
        Console.WriteLine($"latency for a {longText.Length}-character text (cut to {MiniLmEncoder.MaxPieces + 2} tokens): p50 {Percentile(longTimings, 50):F2} ms, p99 {Percentile(longTimings, 99):F2} ms; mean CPU time {longCpu:F2} ms");
        return 0;
    }

    private static ModerationHead LoadHead(string path)
    {
        using var stream = File.OpenRead(path);
        return ModerationHead.Load(stream, path);
    }

    private static string[] ModerationCorpusCategories() => [.. ModerationCorpus.Categories];

    private static int[] Indices(IReadOnlyList<ModerationExample> examples, ModerationSplit split) =>
        Enumerable.Range(0, examples.Count).Where(i => examples[i].Split == split).ToArray();

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];
    }

    private static void PrintReport(ModerationReport report, IReadOnlyList<ModerationExample> all)
    {
        Console.WriteLine($"data: {all.Count} examples: {all.Count(e => e.Split == ModerationSplit.Train)} train, {all.Count(e => e.Split == ModerationSplit.Validation)} validation, "
            + $"{all.Count(e => e.Split == ModerationSplit.HeldOut)} held out; {all.Count(e => e.Labels.Count == 0)} benign ({all.Count(e => e.LookAlike)} look-alikes)");
        Console.WriteLine($"held-out: {report.Examples} examples");
        Console.WriteLine();
        Console.WriteLine("| category | threshold | held-out positives | precision | recall | F1 |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var m in report.Categories)
            Console.WriteLine($"| {m.Category} | {m.Threshold:F2} | {m.Positives} | {m.Precision:F3} | {m.Recall:F3} | {m.F1:F3} |");
        Console.WriteLine();
        Console.WriteLine($"benign look-alikes flagged: {report.FlaggedLookAlikes.Count} of {report.LookAlikes}");
        foreach (var f in report.FlaggedLookAlikes)
            Console.WriteLine($"  {f.Category} {f.Score:F2}: {f.Text}");
    }
}
