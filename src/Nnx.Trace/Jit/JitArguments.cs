using System.Reflection;

namespace NnxSharp;

/// <summary>
/// Checks the arguments of a call to a jitted function (a call that traces, <c>Lower</c>, <c>Export</c>) against the
/// function's parameters before anything is traced, so that a wrong count, a wrong type or a null names the
/// parameter instead of failing deep in the user's code or as a <see cref="TargetParameterCountException"/>.
/// </summary>
internal static class JitArguments
{
    private static readonly NullabilityInfoContext Nullability = new();

    /// <summary>Throws an <see cref="ArgumentException"/> naming the parameter when <paramref name="args"/> do not fit <paramref name="function"/>.</summary>
    public static void Check(string what, Delegate function, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(args, "args");
        var parameters = function.Method.GetParameters();
        var names = Names(function);
        var name = function.Method.Name;
        if (args.Length != parameters.Length)
            throw new ArgumentException(
                $"{what}({name}): the function takes {parameters.Length} argument{(parameters.Length == 1 ? "" : "s")} " +
                $"({string.Join(", ", parameters.Select(Describe))}) but {args.Length} {(args.Length == 1 ? "was" : "were")} given.", "args");
        for (var i = 0; i < args.Length; i++)
        {
            var p = parameters[i];
            var pname = names[i];
            if (args[i] is null)
            {
                if (p.ParameterType.IsValueType && Nullable.GetUnderlyingType(p.ParameterType) is null)
                    throw new ArgumentNullException(pname, $"{what}({name}): argument {i} '{pname}' ({p.ParameterType.Name}) is null.");
                if (!p.ParameterType.IsValueType && p.ParameterType != typeof(string) && Nullability.Create(p).ReadState != NullabilityState.Nullable)
                    throw new ArgumentNullException(pname,
                        $"{what}({name}): argument {i} '{pname}' ({p.ParameterType.Name}) is null; a jitted function's tensor and module arguments must be given.");
                continue;
            }
            if (!p.ParameterType.IsInstanceOfType(args[i]))
                throw new ArgumentException(
                    $"{what}({name}): argument {i} '{pname}' must be a {p.ParameterType.Name} but is a {args[i]!.GetType().Name}.", pname);
        }
    }

    /// <summary>Each parameter's name, or <c>arg{i}</c> for one that has none: how inputs, outputs and errors name an argument.</summary>
    public static string[] Names(Delegate function) =>
        [.. function.Method.GetParameters().Select((p, i) => string.IsNullOrEmpty(p.Name) ? $"arg{i}" : p.Name)];

    private static string Describe(ParameterInfo p) => $"{p.ParameterType.Name} {p.Name}";
}
