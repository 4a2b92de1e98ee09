using System.Diagnostics;
using ChatBlazor.Inference.Models;
using TorchSharp;
using static TorchSharp.torch;
namespace ChatBlazor.Inference.Cli;
internal static class ProbeCommand
{
    public static int Run(Args args)
    {
        var model = LlamaModel.Load(args.Required("model"));
        var t = args.Int("t") ?? 256;
        var tokens = Enumerable.Range(0, t).Select(i => i * 7 % 1000).ToArray();
        for (var rep = 0; rep < 3; rep++)
        {
            using var cache = new KvCache(model.Config, t + 1, model.Device);
            var sw = Stopwatch.StartNew();
            model.Forward(tokens, 0, cache).Dispose();
            Console.WriteLine($"forward T={t}: {sw.Elapsed.TotalMilliseconds:F1} ms");
        }
        using (inference_mode())
        {
            var x = randn(t, 576);
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < 30; i++) (x * (x.pow(2).mean([-1], keepdim: true) + 1e-5).rsqrt()).Dispose();
            Console.WriteLine($"30 rmsnorm: {sw.Elapsed.TotalMilliseconds:F1} ms");
            var q = randn(3, 3 * t, 64); var k = randn(3, t, 64);
            sw.Restart();
            for (var i = 0; i < 30; i++) { using var s = q.matmul(k.transpose(1, 2)); using var p = s.softmax(-1); }
            Console.WriteLine($"30 attention scores+softmax: {sw.Elapsed.TotalMilliseconds:F1} ms");
            var g = randn(t, 1536);
            sw.Restart();
            for (var i = 0; i < 30; i++) { using var a = nn.functional.silu(g); using var b = a * g; }
            Console.WriteLine($"30 silu*up: {sw.Elapsed.TotalMilliseconds:F1} ms");
        }
        return 0;
    }
}
