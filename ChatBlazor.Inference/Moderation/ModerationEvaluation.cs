using ChatBlazor.Inference.Moderation.Data;

namespace ChatBlazor.Inference.Moderation;

/// <summary>Precision, recall and F1 of one category at one threshold, with the counts behind them.</summary>
public sealed record CategoryMetrics(string Category, float Threshold, int Positives, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);
    public double Recall => Positives == 0 ? 1 : (double)TruePositives / Positives;
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>A benign look-alike that scored at or above some category's threshold.</summary>
public sealed record FlaggedLookAlike(string Text, string Category, float Score);

/// <summary>The evaluation of a head on scored examples: per-category metrics and the flagged benign look-alikes.</summary>
public sealed record ModerationReport(IReadOnlyList<CategoryMetrics> Categories, int LookAlikes, IReadOnlyList<FlaggedLookAlike> FlaggedLookAlikes, int Examples);

public static class ModerationEvaluation
{
    public static bool[] Targets(ModerationExample example, IReadOnlyList<string> categories) =>
        categories.Select(c => example.Labels.Contains(c)).ToArray();

    public static ModerationReport Evaluate(IReadOnlyList<ModerationExample> examples, IReadOnlyList<float[]> scores, ModerationHead head)
    {
        var metrics = new List<CategoryMetrics>();
        for (var c = 0; c < head.Categories.Length; c++)
        {
            var category = head.Categories[c];
            metrics.Add(Count(examples, scores, c, category, head.Thresholds[category]));
        }
        var flagged = new List<FlaggedLookAlike>();
        var lookAlikes = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            if (!examples[i].LookAlike)
                continue;
            lookAlikes++;
            var worst = Enumerable.Range(0, head.Categories.Length)
                .Where(c => scores[i][c] >= head.Thresholds[head.Categories[c]])
                .OrderByDescending(c => scores[i][c]).ToArray();
            if (worst.Length > 0)
                flagged.Add(new FlaggedLookAlike(examples[i].Text, head.Categories[worst[0]], scores[i][worst[0]]));
        }
        return new ModerationReport(metrics, lookAlikes, flagged, examples.Count);
    }

    /// <summary>
    /// Per category, the threshold in [0.5, 0.95] with the best F1 on these (validation) examples; ties go to the higher
    /// threshold. The floor of 0.5 and the tie rule lean towards precision: a false flag on an ordinary question costs
    /// more than a missed borderline one that the rules or the asynchronous review may still catch (measured: with a
    /// floor of 0.3 the validation split chose ~0.32 for self-harm, and "my Go build keeps dying" was flagged).
    /// </summary>
    public static Dictionary<string, float> ChooseThresholds(IReadOnlyList<ModerationExample> examples, IReadOnlyList<float[]> scores, IReadOnlyList<string> categories)
    {
        var thresholds = new Dictionary<string, float>();
        for (var c = 0; c < categories.Count; c++)
        {
            var best = (F1: -1.0, Threshold: 0.5f);
            for (var t = 0.50f; t <= 0.951f; t += 0.01f)
            {
                var f1 = Count(examples, scores, c, categories[c], t).F1;
                if (f1 >= best.F1)
                    best = (f1, MathF.Round(t, 2));
            }
            thresholds[categories[c]] = best.Threshold;
        }
        return thresholds;
    }

    private static CategoryMetrics Count(IReadOnlyList<ModerationExample> examples, IReadOnlyList<float[]> scores, int c, string category, float threshold)
    {
        int positives = 0, tp = 0, fp = 0, fn = 0;
        for (var i = 0; i < examples.Count; i++)
        {
            var actual = examples[i].Labels.Contains(category);
            var predicted = scores[i][c] >= threshold;
            positives += actual ? 1 : 0;
            tp += actual && predicted ? 1 : 0;
            fp += !actual && predicted ? 1 : 0;
            fn += actual && !predicted ? 1 : 0;
        }
        return new CategoryMetrics(category, threshold, positives, tp, fp, fn);
    }
}
