using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NnxSharp.Tests;

/// <summary>
/// JAX's binary promotion table (https://docs.jax.dev/en/latest/type_promotion.html, "Type promotion semantics"),
/// restricted to Nnx's dtypes: rows and columns b1 u4 u8 i4 i8 f2 f4 f8 and the weak kinds i* (a C# int) and f*
/// (a C# double). A weak result of two strong types (f* for u8 ⊔ i4) takes the default float, float32.
/// </summary>
[TestClass]
public sealed class PromotionTableTests
{
    private const string Table = """
           b1  u4  u8  i4  i8  f2  f4  f8  i*  f*
        b1 b1  u4  u8  i4  i8  f2  f4  f8  i*  f*
        u4 u4  u4  u8  i8  i8  f2  f4  f8  u4  f*
        u8 u8  u8  u8  f*  f*  f2  f4  f8  u8  f*
        i4 i4  i8  f*  i4  i8  f2  f4  f8  i4  f*
        i8 i8  i8  f*  i8  i8  f2  f4  f8  i8  f*
        f2 f2  f2  f2  f2  f2  f2  f4  f8  f2  f2
        f4 f4  f4  f4  f4  f4  f4  f4  f8  f4  f4
        f8 f8  f8  f8  f8  f8  f8  f8  f8  f8  f8
        i* i*  u4  u8  i4  i8  f2  f4  f8  i*  f*
        f* f*  f*  f*  f*  f*  f2  f4  f8  f*  f*
        """;

    private static DType Strong(string name) => name switch
    {
        "b1" => DType.Bool, "u4" => DType.UInt32, "u8" => DType.UInt64, "i4" => DType.Int32, "i8" => DType.Int64,
        "f2" => DType.Float16, "f4" => DType.Float32, "f8" => DType.Float64,
        "i*" => DType.Int32, "f*" => DType.Float32,
        _ => throw new ArgumentException(name),
    };

    private static IEnumerable<(string Row, string Col, string Result)> Cells()
    {
        var lines = Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var cols = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        foreach (var line in lines.Skip(1))
        {
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (var j = 0; j < cols.Length; j++) yield return (cells[0], cols[j], cells[j + 1]);
        }
    }

    [TestMethod]
    public void PromoteAndPromoteWeakFollowTheTable()
    {
        var checkedCells = 0;
        foreach (var (row, col, result) in Cells())
        {
            var weakRow = row.EndsWith('*');
            var weakCol = col.EndsWith('*');
            if (weakRow && weakCol) continue; // two C# scalars never meet in a tensor operation
            var expected = Strong(result);
            if (!weakRow && !weakCol)
                DTypes.Promote(Strong(row), Strong(col)).Should().Be(expected, "{0} ⊔ {1} = {2}", row, col, result);
            else
            {
                var (tensor, scalar) = weakCol ? (row, col) : (col, row);
                DTypes.PromoteWeak(Strong(tensor), weakFloat: scalar == "f*").Should().Be(expected, "{0} ⊔ {1} = {2}", row, col, result);
            }
            checkedCells++;
        }
        checkedCells.Should().Be(10 * 10 - 4);
    }

    [TestMethod]
    public void TensorScalarOperationsHaveThePromotedDType()
    {
        foreach (var (row, col, result) in Cells())
        {
            if (row.EndsWith('*') || !col.EndsWith('*') || row is "f2") continue; // float16 is a storage type
            var t = Tensor.Ones(Strong(row), 2);
            var expected = Strong(result);
            var got = col == "f*" ? new[] { t * 0.5, t + 1.0, 2.0 - t, t / 2.0, t.Maximum(0.0) }
                                  : new[] { t * 2, t + 1, 3 - t, t.Maximum(0) };
            foreach (var g in got) g.DType.Should().Be(expected, "{0} op {1}", row, col);
        }
    }

    [TestMethod]
    public void TheIssuesExamplesAreRightNow()
    {
        var i = Tensor.FromArray([1, 2, 3]);
        (i * 0.5).ToArray<float>().Should().Equal(0.5f, 1f, 1.5f);
        (Tensor.FromArray([3, 4, 5]) / 2.0).ToArray<float>().Should().Equal(1.5f, 2f, 2.5f);
        (Tensor.FromArray([3, 4, 5]) / 2).ToArray<float>().Should().Equal([1.5f, 2f, 2.5f], "'/' is true division, as jnp.divide");
        (Tensor.FromArray([3, 4]) / Tensor.FromArray([2, 8])).ToArray<float>().Should().Equal(1.5f, 0.5f);
        var mean = Tensor.FromArray([1, 2]).Mean();
        mean.DType.Should().Be(DType.Float32);
        mean.Item<float>().Should().Be(1.5f);
        Tensor.FromArray([true, false, true, true]).Mean().Item<float>().Should().Be(0.75f);
        (i + 1).DType.Should().Be(DType.Int32);
        (i + 1).ToArray<int>().Should().Equal(2, 3, 4);
        (Tensor.Scalar(7, DType.UInt32) + 1).DType.Should().Be(DType.UInt32);
        (Tensor.FromArray([true, false]) + 1).ToArray<int>().Should().Equal(2, 1);
        (i < 1.5).ToArray<bool>().Should().Equal(true, false, false);
        Tensor.Where(Tensor.FromArray([true, false]), Tensor.FromArray([1, 2]), 0.5).ToArray<float>().Should().Equal(1f, 0.5f);
        (Tensor.Ones(DType.Float64, 2) * 0.1).DType.Should().Be(DType.Float64, "a weak scalar never widens a float");
        (Tensor.Ones(DType.Float32, 2) + Tensor.Ones(DType.Int64, 2)).DType.Should().Be(DType.Float32);
    }
}
