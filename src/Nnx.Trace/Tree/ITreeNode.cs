namespace NnxSharp;

/// <summary>
/// A user type that <see cref="Tree"/> can take apart and rebuild: its children are trees (tensors, tuples,
/// lists, other nodes…) and its auxiliary data is static structure kept in the <see cref="TreeDef"/>.
/// </summary>
public interface ITreeNode
{
    /// <summary>
    /// The children, in a fixed order, and the static auxiliary data. The aux must have value equality
    /// (a record, a string, a number, or null): two trees are the same structure only if their auxes are equal.
    /// </summary>
    (IReadOnlyList<object?> Children, object? Aux) TreeFlatten();

    /// <summary>A new node of this type from auxiliary data and children (this instance is only a factory).</summary>
    ITreeNode TreeUnflatten(object? aux, IReadOnlyList<object?> children);

    /// <summary>
    /// The name of child <paramref name="index"/> in a path (an exported model's input names, error messages);
    /// by default its position.
    /// </summary>
    string ChildName(object? aux, int index) => index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
