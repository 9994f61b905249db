using System.Reflection;
using NnxSharp.Backends;

namespace NnxSharp;

/// <summary>How a jitted function's argument is passed.</summary>
internal enum ArgKind : byte
{
    /// <summary>A module or variable: a root of the object graph, its variables are state.</summary>
    Graph,
    /// <summary>Anything else a <see cref="NnxSharp.Tree"/> takes: tensors, containers of tensors, static values, null.</summary>
    Tree,
}
