namespace ChatBlazor.Inference.Kernels;

/// <summary>
/// A count known when the JIT compiles a kernel for it: rows or inputs per pass (MatVec, Q8MatVec) and rows per
/// input panel (MatMul, 12 on AVX-512's 32 registers, 6 elsewhere). Tests of <c>Value</c> become constants in each
/// specialised copy, so unused accumulators and branches vanish.
/// </summary>
internal interface ICount
{
    static abstract int Value { get; }
}

internal readonly struct One : ICount { public static int Value => 1; }

internal readonly struct Two : ICount { public static int Value => 2; }

internal readonly struct Three : ICount { public static int Value => 3; }

internal readonly struct Four : ICount { public static int Value => 4; }

internal readonly struct Six : ICount { public static int Value => 6; }

internal readonly struct Twelve : ICount { public static int Value => 12; }
