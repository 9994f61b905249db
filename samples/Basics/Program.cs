// Nnx basics: eager tensors on ONNX Runtime, and a traced function printed as IR.
using NnxSharp;
using NnxSharp.Ir;

var x = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
var w = Tensor.FromArray([0.5f, -1f, 1f, 0.25f, -0.5f, 2f], 3, 2);
var b = Tensor.FromArray([0.1f, -0.2f]);

var h = (x.MatMul(w) + b).Relu();
var m = h.Mean(axis: 0);
Console.WriteLine($"x = {x}");
Console.WriteLine($"h = relu(x @ w + b) = {h}");
Console.WriteLine($"mean over the batch = {m}");
Console.WriteLine($"as float[]: [{string.Join(", ", m.ToArray<float>())}]");

var bits = Tensor.FromArray([0x243f6a88u, 0x85a308d3u]);
Console.WriteLine($"uint32 rotate-left by 13: {(bits << 13) | (bits >> 19)}");

// Tracing records operations on symbolic tensors instead of running them.
var graph = Graph.Trace((xs, ws, bs) => (xs.MatMul(ws) + bs).Relu().Mean(axis: 0),
    Aval.F32(32, 2), Aval.F32(2, 64), Aval.F32(64));
Console.WriteLine("\nThe traced IR of mean(relu(x @ w + b), axis 0):");
Console.WriteLine(graph);
