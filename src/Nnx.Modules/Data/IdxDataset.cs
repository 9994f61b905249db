namespace NnxSharp.Data;

/// <summary>
/// Image-classification datasets stored as a pair of IDX files (MNIST, Fashion-MNIST): images
/// [count, rows, columns] and labels [count].
/// </summary>
public static class IdxDataset
{
    /// <summary>
    /// Reads the images and labels (plain or .gz) into an <see cref="ArrayDataset"/> of two columns: float32
    /// images scaled by <paramref name="scale"/> (pixels ÷ 255 by default), [count, rows, columns, 1] when
    /// <paramref name="channelAxis"/> (NHWC, as <see cref="Conv"/> takes them) else [count, rows, columns];
    /// and int32 labels [count]. Throws when the files disagree on the count or are not IDX images and labels.
    /// </summary>
    public static ArrayDataset Load(string imagesPath, string labelsPath, double scale = 1.0 / 255, bool channelAxis = true)
    {
        var images = Idx.Read(imagesPath);
        var labels = Idx.Read(labelsPath);
        if (images.Shape.Count < 2)
            throw new InvalidDataException($"IdxDataset: '{imagesPath}' holds {images}, not images [count, …].");
        if (labels.Shape.Count != 1)
            throw new InvalidDataException($"IdxDataset: '{labelsPath}' holds {labels}, not labels [count].");
        if (images.Shape[0] != labels.Shape[0])
            throw new InvalidDataException(
                $"IdxDataset: '{imagesPath}' has {images.Shape[0]} images but '{labelsPath}' has {labels.Shape[0]} labels.");
        int[] shape = channelAxis ? [.. images.Shape, 1] : [.. images.Shape];
        return new ArrayDataset(DataColumn.Create(images.ToFloat32(scale), shape), DataColumn.Create(labels.ToInt32(), labels.Shape[0]));
    }
}
