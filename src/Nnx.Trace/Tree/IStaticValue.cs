namespace NnxSharp;

/// <summary>
/// A marker for values that <see cref="Tree"/> keeps whole as static leaves: held in the <see cref="TreeDef"/>
/// and compared with <see cref="object.Equals(object?)"/> and <see cref="object.GetHashCode"/>, never taken
/// apart. The type must have exact, cheap value equality and be immutable (a module <c>GraphDef</c> is one).
/// </summary>
public interface IStaticValue;
