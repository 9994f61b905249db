namespace NnxSharp;

/// <summary>
/// erf⁻¹ as a composite of primitives: M. Giles, "Approximating the erfinv function" (GPU Computing Gems,
/// 2011), in the form XLA uses for <c>lax.erf_inv</c>, so that Normal follows JAX's arithmetic step by step.
/// With w = −log(1 − x²), erf⁻¹(x) = x·p(w) where p is a polynomial in w − 2.5 (w &lt; 5) or √w − 3 (float32),
/// and in w − 3.125 (w &lt; 6.25), √w − 3.25 (w &lt; 16) or √w − 5 (float64). erf⁻¹(±1) is ±MaxValue, as in XLA.
/// </summary>
internal static class InverseErf
{
    private static readonly double[] F32Small =
    [
        2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
        -0.00125372503, -0.00417768164, 0.246640727, 1.50140941,
    ];

    private static readonly double[] F32Large =
    [
        -0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
        -0.0076224613, 0.00943887047, 1.00167406, 2.83297682,
    ];

    private static readonly double[] F64Small =
    [
        -3.6444120640178196996e-21, -1.685059138182016589e-19, 1.2858480715256400167e-18,
        1.115787767802518096e-17, -1.333171662854620906e-16, 2.0972767875968561637e-17,
        6.6376381343583238325e-15, -4.0545662729752068639e-14, -8.1519341976054721522e-14,
        2.6335093153082322977e-12, -1.2975133253453532498e-11, -5.4154120542946279317e-11,
        1.051212273321532285e-09, -4.1126339803469836976e-09, -2.9070369957882005086e-08,
        4.2347877827932403518e-07, -1.3654692000834678645e-06, -1.3882523362786468719e-05,
        0.0001867342080340571352, -0.00074070253416626697512, -0.0060336708714301490533,
        0.24015818242558961693, 1.6536545626831027356,
    ];

    private static readonly double[] F64Medium =
    [
        2.2137376921775787049e-09, 9.0756561938885390979e-08, -2.7517406297064545428e-07,
        1.8239629214389227755e-08, 1.5027403968909827627e-06, -4.013867526981545969e-06,
        2.9234449089955446044e-06, 1.2475304481671778723e-05, -4.7318229009055733981e-05,
        6.8284851459573175448e-05, 2.4031110387097893999e-05, -0.0003550375203628474796,
        0.00095328937973738049703, -0.0016882755560235047313, 0.0024914420961078508066,
        -0.0037512085075692412107, 0.005370914553590063617, 1.0052589676941592334,
        3.0838856104922207635,
    ];

    private static readonly double[] F64Large =
    [
        -2.7109920616438573243e-11, -2.5556418169965252055e-10, 1.5076572693500548083e-09,
        -3.7894654401267369937e-09, 7.6157012080783393804e-09, -1.4960026627149240478e-08,
        2.9147953450901080826e-08, -6.7711997758452339498e-08, 2.2900482228026654717e-07,
        -9.9298272942317002539e-07, 4.5260625972231537039e-06, -1.9681778105531670567e-05,
        7.5995277030017761139e-05, -0.00021503011930044477347, -0.00013871931833623122026,
        1.0103004648645343977, 4.8499064014085844221,
    ];

    /// <summary>erf⁻¹(x) elementwise for x in [−1, 1], float32 or float64.</summary>
    public static Tensor Of(Tensor x)
    {
        var result = x.DType switch
        {
            DType.Float32 => Poly32(x),
            DType.Float64 => Poly64(x),
            _ => throw new ArgumentException($"erf_inv: argument 0 must be float32 or float64 but is {x.Aval}."),
        };
        var max = x.DType == DType.Float32 ? float.MaxValue : double.MaxValue;
        return Tensor.Where(x.Abs().Equal(1.0), x * max, result);
    }

    /// <summary>w = −log1p(−x²), with log1p(y) = log(u)·y/(u − 1) for u = 1 + y ≠ 1 (Goldberg), y when u = 1.</summary>
    private static Tensor MinusLog1pMinusSquare(Tensor x)
    {
        var x2 = x * x;
        var u = 1.0 - x2;
        return Tensor.Where(u.Equal(1.0), x2, u.Log() * (x2 / (u - 1.0)));
    }

    private static Tensor Poly32(Tensor x)
    {
        var w = MinusLog1pMinusSquare(x);
        var small = w < 5.0;
        var t = Tensor.Where(small, w - 2.5, w.Sqrt() - 3.0);
        var p = Coefficient(small, F32Small[0], F32Large[0], x.DType);
        for (var i = 1; i < F32Small.Length; i++)
            p = Coefficient(small, F32Small[i], F32Large[i], x.DType) + p * t;
        return p * x;
    }

    private static Tensor Poly64(Tensor x)
    {
        var w = MinusLog1pMinusSquare(x);
        var small = w < 6.25;
        var medium = w < 16.0;
        var sqrtW = w.Sqrt();
        var t = Tensor.Where(small, w - 3.125, sqrtW - Tensor.Where(medium, Tensor.Scalar(3.25, DType.Float64), 5.0));
        Tensor C(int i)
        {
            var c = Tensor.Scalar(F64Small[i], DType.Float64);
            if (i < F64Medium.Length) c = Tensor.Where(small, c, F64Medium[i]);
            if (i < F64Large.Length) c = Tensor.Where(medium, c, F64Large[i]);
            return c;
        }
        var p = C(0);
        for (var i = 1; i < F64Large.Length; i++) p = C(i) + p * t;
        for (var i = F64Large.Length; i < F64Medium.Length; i++) p = Tensor.Where(medium, C(i) + p * t, p);
        for (var i = F64Medium.Length; i < F64Small.Length; i++) p = Tensor.Where(small, C(i) + p * t, p);
        return p * x;
    }

    private static Tensor Coefficient(Tensor cond, double a, double b, DType dtype) =>
        Tensor.Where(cond, Tensor.Scalar(a, dtype), b);
}
