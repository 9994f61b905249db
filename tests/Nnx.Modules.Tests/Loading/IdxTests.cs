using FluentAssertions;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NnxSharp.Data;

namespace NnxSharp.Tests;

[TestClass]
public sealed class IdxTests
{
    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void ReadsUnsignedBytesPlainAndGzipped(bool gzip)
    {
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(k => (double)(k * 11 % 256)).ToArray();
        var path = IdxFiles.Write(IdxFiles.Bytes(IdxType.UInt8, [2, 3, 4], values), gzip);
        var a = Idx.Read(path);
        a.Type.Should().Be(IdxType.UInt8);
        a.Shape.Should().Equal(2, 3, 4);
        a.Bytes.Select(b => (double)b).Should().Equal(values);
        a.ToFloat32(1.0 / 255).Should().Equal(values.Select(v => (float)(v / 255)));
        a.ToInt32().Should().Equal(values.Select(v => (int)v));
        a.ToString().Should().Be("UInt8[2,3,4]");
    }

    [TestMethod]
    [DataRow(IdxType.Int8)]
    [DataRow(IdxType.Int16)]
    [DataRow(IdxType.Int32)]
    [DataRow(IdxType.Float32)]
    [DataRow(IdxType.Float64)]
    public void ReadsEveryTypeBigEndian(IdxType type)
    {
        double[] values = type switch
        {
            IdxType.Int8 => [-128, -1, 0, 1, 127, 5],
            IdxType.Int16 => [-32768, -2, 0, 258, 32767, 7],
            IdxType.Int32 => [int.MinValue, -70000, 0, 16909060, int.MaxValue, 3],
            IdxType.Float32 => [-1.5, 0.1f, 0, 3.25, float.MaxValue, -1e-30f],
            _ => [-1.5, 0.1, 0, Math.PI, double.MaxValue, -1e-300],
        };
        var a = Idx.Read(IdxFiles.Write(IdxFiles.Bytes(type, [3, 2], values)));
        a.Type.Should().Be(type);
        a.Shape.Should().Equal(3, 2);
        a.ToFloat32().Should().Equal(values.Select(v => (float)v));
        if (type is not (IdxType.Float32 or IdxType.Float64)) a.ToInt32().Should().Equal(values.Select(v => (int)v));
        else FluentActions.Invoking(a.ToInt32).Should().Throw<InvalidOperationException>().WithMessage("*ToFloat32*");
        FluentActions.Invoking(() => a.Bytes).Should().Throw<InvalidOperationException>().WithMessage($"*{type}*not UInt8*");
    }

    [TestMethod]
    public void BadFilesGiveClearErrors()
    {
        var good = IdxFiles.Bytes(IdxType.UInt8, [2, 3], [1, 2, 3, 4, 5, 6]);
        Expect([.. good.Take(3)], "*truncated*3 byte(s)*magic*");
        Expect([0x1F, 0x00, .. good[2..]], "*not an IDX file*0x1F 0x00*");
        Expect([0, 0, 0x07, .. good[3..]], "*unknown type code 0x07*");
        Expect([.. good.Take(9)], "*truncated*header of 2 dimension(s) needs 12 bytes*has 9*");
        Expect([.. good.Take(good.Length - 2)], "*truncated*UInt8 values of shape [2,3] need 6 bytes*holds 4*");
        Expect([.. good, 0, 0], "*2 byte(s) after the 6 bytes*");
        Expect(IdxFiles.Bytes(IdxType.Int32, [2], [1, 2])[..10], "*Int32 values of shape [2] need 8 bytes*holds 2*");

        // A gzip header followed by garbage.
        var broken = IdxFiles.Write([0x1F, 0x8B, 0x08, 0x00, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x00, 0x42]);
        FluentActions.Invoking(() => Idx.Read(broken)).Should().Throw<InvalidDataException>().WithMessage($"*'{broken}'*gzip*");
        FluentActions.Invoking(() => Idx.Read(broken)).Should().Throw<InvalidDataException>().WithMessage("*cut short or corrupt*");
        FluentActions.Invoking(() => Idx.Read("/nonexistent/x.idx")).Should().Throw<FileNotFoundException>().WithMessage("*'/nonexistent/x.idx' does not exist*");
    }

    [TestMethod]
    public void ATruncatedGzipFileIsReportedWithItsName()
    {
        var full = IdxFiles.Bytes(IdxType.UInt8, [4, 5], [.. Enumerable.Range(0, 20).Select(k => (double)k)]);
        var path = IdxFiles.Write([.. full.Take(15)], gzip: true);
        FluentActions.Invoking(() => Idx.Read(path)).Should().Throw<InvalidDataException>().WithMessage($"*'{path}' is truncated*need 20 bytes*holds 3*");
    }

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void IdxDatasetLoadsImagesAndLabels(bool gzip)
    {
        var (images, labels) = IdxFiles.Mnist(5, 3, 2, gzip);
        var ds = IdxDataset.Load(images, labels);
        ds.Count.Should().Be(5);
        ds.Columns[0].RowShape.Should().Equal(3, 2, 1);
        ds.Columns[0].DType.Should().Be(DType.Float32);
        ds.Columns[1].DType.Should().Be(DType.Int32);
        ((float[])ds.Columns[0].Data).Should().Equal(Enumerable.Range(0, 30).Select(k => (float)(k * 7 % 256 * (1.0 / 255))));
        ((int[])ds.Columns[1].Data).Should().Equal(0, 1, 2, 3, 4);
        IdxDataset.Load(images, labels, scale: 1, channelAxis: false).Columns[0].RowShape.Should().Equal(3, 2);
    }

    [TestMethod]
    public void IdxDatasetRejectsFilesThatDisagree()
    {
        var (images, _) = IdxFiles.Mnist(5, 3, 2, gzip: false);
        var (_, labels4) = IdxFiles.Mnist(4, 3, 2, gzip: true);
        FluentActions.Invoking(() => IdxDataset.Load(images, labels4)).Should().Throw<InvalidDataException>()
            .WithMessage($"*'{images}' has 5 images but '{labels4}' has 4 labels*");
        FluentActions.Invoking(() => IdxDataset.Load(labels4, labels4)).Should().Throw<InvalidDataException>().WithMessage("*UInt8[4]*not images*");
        FluentActions.Invoking(() => IdxDataset.Load(images, images)).Should().Throw<InvalidDataException>().WithMessage("*UInt8[5,3,2]*not labels*");
    }

    private static void Expect(byte[] bytes, string message)
    {
        var path = IdxFiles.Write(bytes);
        FluentActions.Invoking(() => Idx.Read(path)).Should().Throw<InvalidDataException>().WithMessage(message).And.Message.Should().Contain(path);
    }
}
