using System.Text.Json;
using ChatBlazor.Inference.Loadgen;

namespace ChatBlazor.Inference.Tests.Loadgen;

public sealed class LoadReportTests
{
    // Two completed requests over a 2 s run, worked out by hand:
    //   a: 100 prompt, 3 tokens, chunks at 0.1, 0.2, 0.4, ends 0.5 → TTFT 100 ms, TPOT (0.5−0.1)/2 = 200 ms, gaps 100, 200 ms
    //   b: 50 prompt, 5 tokens, chunks at 0.3, 0.4, ends 1.1       → TTFT 300 ms, TPOT (1.1−0.3)/4 = 200 ms, gap 100 ms
    private static readonly LoadRun Run = new(
    [
        RequestResult.Completed(100, 3, [0.1, 0.2, 0.4], 0.5),
        RequestResult.Failed("HTTP 503: queue full"),
        RequestResult.Completed(50, 5, [0.3, 0.4], 1.1),
        RequestResult.Failed("HTTP 503: queue full"),
        RequestResult.Failed("HttpRequestException: Connection refused"),
        null,
    ], 2.0);

    [Fact]
    public void CountsCompletedFailedAndUnfinishedRequests()
    {
        var report = LoadReport.From(Run);

        Assert.Equal((2, 3, 1), (report.Completed, report.Failed, report.Unfinished));
    }

    [Fact]
    public void ThroughputsAreCompletedWorkOverTheRunsDuration()
    {
        var report = LoadReport.From(Run);

        Assert.Equal(150, report.TotalInputTokens);
        Assert.Equal(8, report.TotalOutputTokens);
        Assert.Equal(1.0, report.RequestThroughput, 12);     // 2 requests / 2 s
        Assert.Equal(4.0, report.OutputThroughput, 12);      // 8 tokens / 2 s
        Assert.Equal(79.0, report.TotalTokenThroughput, 12); // (150 + 8) / 2 s
    }

    [Fact]
    public void LatenciesComeFromCompletedRequestsOnly()
    {
        var report = LoadReport.From(Run);

        Assert.Equal(200, report.Ttft.MeanMs!.Value, 9);
        Assert.Equal(298, report.Ttft.P99Ms!.Value, 9);      // 100 + 0.99·(300 − 100)
        Assert.Equal(200, report.Tpot.MedianMs!.Value, 9);
        Assert.Equal(400 / 3.0, report.Itl.MeanMs!.Value, 9); // gaps 100, 200, 100 ms
        Assert.Equal(100, report.Itl.MedianMs!.Value, 9);
        Assert.Equal(800, report.EndToEnd.MeanMs!.Value, 9);  // (500 + 1100) / 2
    }

    [Fact]
    public void ErrorsAreGroupedByMessageInTheOrderFirstSeen()
    {
        var report = LoadReport.From(Run);

        Assert.Equal([new ErrorCount("HTTP 503: queue full", 2), new ErrorCount("HttpRequestException: Connection refused", 1)], report.Errors);
    }

    [Fact]
    public void JsonIsOneObjectWithVllmsKeyNames()
    {
        using var json = JsonDocument.Parse(LoadReport.From(Run).ToJson(new Dictionary<string, object?> { ["num_prompts"] = 6 }));
        var root = json.RootElement;

        Assert.Equal(6, root.GetProperty("num_prompts").GetInt32());
        Assert.Equal(2, root.GetProperty("completed").GetInt32());
        Assert.Equal(200, root.GetProperty("mean_ttft_ms").GetDouble());
        Assert.Equal(100, root.GetProperty("median_itl_ms").GetDouble());
        Assert.Equal(2, root.GetProperty("errors")[0].GetProperty("count").GetInt32());
    }

    [Fact]
    public void ARunWithNothingCompletedReportsLatenciesAsMissing()
    {
        var report = LoadReport.From(new LoadRun([RequestResult.Failed("boom")], 1.0));

        Assert.Null(report.Ttft.MeanMs);
        Assert.Contains("n/a", report.ToText());
        using var json = JsonDocument.Parse(report.ToJson(new Dictionary<string, object?>()));
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("p99_e2el_ms").ValueKind);
    }
}
