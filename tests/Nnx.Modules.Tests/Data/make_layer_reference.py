#!/usr/bin/python3
"""Reference values for the layer, activation and loss tests (tests/Nnx.Modules.Tests/Layers/*ReferenceTests.cs).

Run from this directory with PyTorch installed (Debian: apt-get install -y python3-torch):

    /usr/bin/python3 make_layer_reference.py

It writes layer_reference.json: for each case, float64 inputs and parameters in Flax's layouts, the outputs,
and the gradients of loss = sum(output * r) (r a fixed random cotangent, also stored) with respect to the
named tensors, all computed by PyTorch. Conventions translated here, not in the tests:
  - Linear: PyTorch's weight is [out, in]; Flax's kernel is [in, out] (kernel = weight.T).
  - Conv: PyTorch is NCHW with weight [out, in, kh, kw]; Flax is NHWC with kernel [kh, kw, in, out].
    SAME padding is XLA's: total = max((ceil(n/s) - 1) * s + k - n, 0), low = total // 2, applied with F.pad.
  - BatchNorm: PyTorch's momentum is 1 - Flax's, and its running variance uses the unbiased batch variance;
    Flax's update uses the biased one, so the expected running statistics are computed here from the batch.
  - MultiHeadAttention: Flax's kernels [in, heads, head_dim] and [heads, head_dim, out] flattened to matrices
    are the transposes of PyTorch's in_proj_weight blocks and out_proj.weight.
The tests only read the JSON.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20250611)
D = torch.float64


def rand(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=D) * scale).requires_grad_(True)


def dump(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": t.flatten().tolist()}


def finish(inputs, out, wrt, extra=None):
    """Backward of sum(out * r); returns the case's record."""
    r = torch.randn(out.shape, dtype=D)
    (out * r).sum().backward()
    record = {
        "inputs": {k: dump(v) for k, v in inputs.items()},
        "r": dump(r),
        "output": dump(out),
        "grads": {k: dump(inputs[k].grad) for k in wrt},
    }
    if extra:
        record.update(extra)
    return record


def linear(x_shape):
    x, kernel, bias = rand(*x_shape), rand(x_shape[-1], 5), rand(5, scale=0.1)
    out = F.linear(x, kernel.t(), bias)
    return finish({"x": x, "kernel": kernel, "bias": bias}, out, ["x", "kernel", "bias"])


def batch_norm(x_shape, momentum):
    """Flax BatchNorm in training mode over NHWC (or [N, C]) input with feature axis -1."""
    c = x_shape[-1]
    x, scale, bias = rand(*x_shape), rand(c), rand(c, scale=0.1)
    mean0, var0 = torch.randn(c, dtype=D) * 0.1, torch.rand(c, dtype=D) + 0.5
    xt = x if x.dim() == 2 else x.permute(0, 3, 1, 2)   # NCHW for PyTorch
    rm, rv = mean0.clone(), var0.clone()
    out = F.batch_norm(xt, rm, rv, scale, bias, training=True, momentum=1 - momentum, eps=1e-5)
    out = out if x.dim() == 2 else out.permute(0, 2, 3, 1)
    axes = tuple(range(x.dim() - 1))
    batch_mean = x.detach().mean(dim=axes)
    batch_var = x.detach().var(dim=axes, unbiased=False)
    # PyTorch's own update used the unbiased variance; Flax's uses the biased one.
    n = x.numel() // c
    assert torch.allclose(rv, (1 - momentum) * batch_var * n / (n - 1) + momentum * var0)
    new_mean = momentum * mean0 + (1 - momentum) * batch_mean
    new_var = momentum * var0 + (1 - momentum) * batch_var
    # Evaluation with the updated running statistics.
    xe = torch.randn(x_shape, dtype=D)
    xet = xe if xe.dim() == 2 else xe.permute(0, 3, 1, 2)
    eval_out = F.batch_norm(xet, new_mean, new_var, scale.detach(), bias.detach(), training=False, eps=1e-5)
    eval_out = eval_out if xe.dim() == 2 else eval_out.permute(0, 2, 3, 1)
    return finish({"x": x, "scale": scale, "bias": bias}, out, ["x", "scale", "bias"], {
        "momentum": momentum, "mean0": dump(mean0), "var0": dump(var0),
        "new_mean": dump(new_mean), "new_var": dump(new_var),
        "x_eval": dump(xe), "eval_output": dump(eval_out),
    })


def layer_norm(x_shape, eps):
    c = x_shape[-1]
    x, scale, bias = rand(*x_shape), rand(c), rand(c, scale=0.1)
    out = F.layer_norm(x, (c,), scale, bias, eps=eps)
    return finish({"x": x, "scale": scale, "bias": bias}, out, ["x", "scale", "bias"], {"epsilon": eps})


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv(x_shape, k_size, stride, padding):
    n, h, w, cin = x_shape
    cout = 4
    x, kernel, bias = rand(*x_shape), rand(*k_size, cin, cout, scale=0.5), rand(cout, scale=0.1)
    xt = x.permute(0, 3, 1, 2)
    if padding == "SAME":
        (ph0, ph1), (pw0, pw1) = same_pads(h, k_size[0], stride), same_pads(w, k_size[1], stride)
        xt = F.pad(xt, (pw0, pw1, ph0, ph1))
    out = F.conv2d(xt, kernel.permute(3, 2, 0, 1), bias, stride=stride).permute(0, 2, 3, 1)
    return finish({"x": x, "kernel": kernel, "bias": bias}, out, ["x", "kernel", "bias"],
                  {"kernel_size": list(k_size), "stride": stride, "padding": padding})


def embed():
    table = rand(6, 4)
    idx = torch.tensor([[1, 5, 0], [2, 2, 3]])
    out = F.embedding(idx, table)
    rec = finish({"embedding": table}, out, ["embedding"])
    rec["indices"] = {"shape": list(idx.shape), "data": idx.flatten().tolist()}
    return rec


def attention(causal):
    b, length, din, heads = 2, 4, 8, 2
    hd = din // heads
    x = rand(b, length, din)
    wq, wk, wv = rand(din, heads, hd, scale=0.3), rand(din, heads, hd, scale=0.3), rand(din, heads, hd, scale=0.3)
    bq, bk, bv = rand(heads, hd, scale=0.1), rand(heads, hd, scale=0.1), rand(heads, hd, scale=0.1)
    wo, bo = rand(heads, hd, din, scale=0.3), rand(din, scale=0.1)
    in_w = torch.cat([w.reshape(din, din).t() for w in (wq, wk, wv)])
    in_b = torch.cat([v.reshape(din) for v in (bq, bk, bv)])
    out_w, out_b = wo.reshape(din, din).t(), bo
    # PyTorch's own attention (F.multi_head_attention_forward, what nn.MultiheadAttention runs) with our parameters.
    mask = torch.triu(torch.ones(length, length, dtype=torch.bool), 1) if causal else None
    out, _ = F.multi_head_attention_forward(
        x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1), din, heads, in_w, in_b, None, None, False, 0.0,
        out_w, out_b, training=False, need_weights=False, attn_mask=mask)
    out = out.transpose(0, 1)
    inputs = {"x": x, "wq": wq, "wk": wk, "wv": wv, "bq": bq, "bk": bk, "bv": bv, "wo": wo, "bo": bo}
    return finish(inputs, out, list(inputs), {"heads": heads, "causal": causal})


def activations():
    x = torch.tensor([-6.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.5, 3.0, 8.0, 20.0], dtype=D)
    cases = {}
    fns = {
        "relu": torch.relu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "gelu_exact": lambda t: F.gelu(t),
        "silu": F.silu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }
    for name, f in fns.items():
        xi = x.clone().requires_grad_(True)
        cases[name] = finish({"x": xi}, f(xi), ["x"])
    logits = rand(3, 5, scale=3.0)
    logits.data[1] += 1000.0  # a row that overflows exp without the max shift
    cases["softmax"] = finish({"x": logits}, F.softmax(logits, dim=-1), ["x"])
    logits2 = logits.detach().clone().requires_grad_(True)
    cases["log_softmax"] = finish({"x": logits2}, F.log_softmax(logits2, dim=-1), ["x"])
    return cases


def losses():
    cases = {}
    logits = rand(4, 5, scale=2.0)
    labels = torch.tensor([0, 3, 4, 1])
    rec = finish({"logits": logits}, F.cross_entropy(logits, labels, reduction="none"), ["logits"])
    rec["labels"] = {"shape": [4], "data": labels.tolist()}
    cases["softmax_cross_entropy_integer"] = rec
    logits = rand(4, 5, scale=2.0)
    probs = torch.softmax(torch.randn(4, 5, dtype=D), dim=-1).requires_grad_(True)
    cases["softmax_cross_entropy"] = finish({"logits": logits, "labels": probs},
                                            -(probs * F.log_softmax(logits, dim=-1)).sum(-1), ["logits", "labels"])
    logits = torch.tensor([-40.0, -3.0, -0.5, 0.0, 0.5, 2.0, 35.0, 1.0], dtype=D).requires_grad_(True)
    targets = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.25, 0.0, 0.5], dtype=D).requires_grad_(True)
    cases["sigmoid_binary_cross_entropy"] = finish(
        {"logits": logits, "labels": targets},
        F.binary_cross_entropy_with_logits(logits, targets, reduction="none"), ["logits", "labels"])
    p, t = rand(3, 4), rand(3, 4)
    cases["squared_error"] = finish({"p": p, "t": t}, F.mse_loss(p, t, reduction="none"), ["p", "t"])
    return cases


def pool(kind, x_shape, window, strides, padding, count_include_pad=True):
    """Flax's max_pool/avg_pool over NHWC input; padding SAME (XLA's pads), VALID or explicit pairs.

    Padding is applied with F.pad (-inf for max, zeros for mean) and the PyTorch pool runs unpadded, so any
    (asymmetric) pads work; a mean that leaves padded zeros out divides the sum by the pooled count of ones.
    """
    x = rand(*x_shape)
    h, w = x_shape[1], x_shape[2]
    if padding == "SAME":
        pads = [same_pads(h, window[0], strides[0]), same_pads(w, window[1], strides[1])]
    elif padding == "VALID":
        pads = [(0, 0), (0, 0)]
    else:
        pads = padding
    flat = (pads[1][0], pads[1][1], pads[0][0], pads[0][1])
    xt = x.permute(0, 3, 1, 2)
    if kind == "max":
        out = F.max_pool2d(F.pad(xt, flat, value=-math.inf), window, strides)
    else:
        out = F.avg_pool2d(F.pad(xt, flat), window, strides)
        if not count_include_pad:
            ones = F.pad(torch.ones_like(xt[:, :1]), flat)
            out = out / F.avg_pool2d(ones, window, strides)
    out = out.permute(0, 2, 3, 1)
    return finish({"x": x}, out, ["x"], {"window": list(window), "strides": list(strides), "pads": [list(p) for p in pads],
                                         "count_include_pad": count_include_pad})


def more_activations():
    """Activations added with the pooling layers (jax.nn.leaky_relu, elu, softplus, logsumexp)."""
    x = torch.tensor([-30.0, -6.0, -2.5, -1.0, -0.3, -1e-3, 0.0, 1e-3, 0.2, 0.7, 1.5, 3.0, 8.0, 40.0], dtype=D)
    cases = {}
    fns = {
        "leaky_relu": F.leaky_relu,                       # slope 0.01 in both
        "leaky_relu_0.2": lambda t: F.leaky_relu(t, 0.2),
        "elu": F.elu,
        "elu_0.5": lambda t: F.elu(t, 0.5),
        # jax.nn.softplus is logaddexp(x, 0) everywhere; F.softplus switches to x above its threshold 20.
        "softplus": lambda t: torch.logaddexp(t, torch.zeros_like(t)),
    }
    for name, f in fns.items():
        # At exactly 0 PyTorch's leaky_relu takes the negative slope, JAX's (x >= 0) the identity: left out here.
        xi = (x[x != 0] if name.startswith("leaky") else x).clone().requires_grad_(True)
        cases[name] = finish({"x": xi}, f(xi), ["x"])
    logits = rand(3, 4, 5, scale=3.0)
    logits.data[1] += 1000.0
    cases["logsumexp_axis2"] = finish({"x": logits}, torch.logsumexp(logits, dim=2), ["x"])
    l2 = logits.detach().clone().requires_grad_(True)
    cases["logsumexp_axes02"] = finish({"x": l2}, torch.logsumexp(l2, dim=(0, 2)), ["x"])
    l3 = (logits.detach() - 1000.0).clone().requires_grad_(True)
    cases["logsumexp_all"] = finish({"x": l3}, torch.logsumexp(l3.flatten(), dim=0), ["x"])
    return cases


def conv_dilated(x_shape, k_size, stride, padding, dilation):
    """Flax Conv with kernel_dilation: SAME pads from the dilated extent d·(k − 1) + 1, as XLA's."""
    n, h, w, cin = x_shape
    cout = 3
    x, kernel, bias = rand(*x_shape), rand(*k_size, cin, cout, scale=0.5), rand(cout, scale=0.1)
    xt = x.permute(0, 3, 1, 2)
    if padding == "SAME":
        eh, ew = dilation[0] * (k_size[0] - 1) + 1, dilation[1] * (k_size[1] - 1) + 1
        (ph0, ph1), (pw0, pw1) = same_pads(h, eh, stride[0]), same_pads(w, ew, stride[1])
        xt = F.pad(xt, (pw0, pw1, ph0, ph1))
    out = F.conv2d(xt, kernel.permute(3, 2, 0, 1), bias, stride=stride, dilation=dilation).permute(0, 2, 3, 1)
    return finish({"x": x, "kernel": kernel, "bias": bias}, out, ["x", "kernel", "bias"],
                  {"kernel_size": list(k_size), "strides": list(stride), "padding": padding, "dilation": list(dilation)})


def group_norm(x_shape, groups, eps):
    """Flax GroupNorm over NHWC (or [N, C]) input: F.group_norm on the channels-first view."""
    c = x_shape[-1]
    x, scale, bias = rand(*x_shape), rand(c), rand(c, scale=0.1)
    xt = x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))
    out = F.group_norm(xt, groups, scale, bias, eps=eps)
    out = out.permute(0, *range(2, x.dim()), 1)
    return finish({"x": x, "scale": scale, "bias": bias}, out, ["x", "scale", "bias"], {"groups": groups, "epsilon": eps})


def rms_norm(x_shape, eps):
    """Flax RMSNorm over the last axis, x·rsqrt(mean(x²) + eps)·scale (PyTorch 1.13 has no RMSNorm module: its autograd differentiates this)."""
    c = x_shape[-1]
    x, scale = rand(*x_shape), rand(c)
    out = x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * scale
    return finish({"x": x, "scale": scale}, out, ["x", "scale"], {"epsilon": eps})


def pools():
    return {
        "conv_same_dil2": conv_dilated((2, 7, 6, 3), (3, 3), (1, 1), "SAME", (2, 2)),
        "conv_valid_s2_dil21": conv_dilated((1, 9, 8, 2), (2, 3), (2, 2), "VALID", (2, 1)),
        "conv_same_s2_dil3": conv_dilated((1, 8, 8, 2), (2, 2), (2, 1), "SAME", (3, 2)),
        "max_pool_2x2_s2": pool("max", (2, 4, 6, 3), (2, 2), (2, 2), "VALID"),
        "max_pool_2x2_s2_odd": pool("max", (1, 5, 5, 2), (2, 2), (2, 2), "VALID"),
        "max_pool_3x3_s1_same": pool("max", (2, 5, 4, 2), (3, 3), (1, 1), "SAME"),
        "max_pool_3x2_s21_valid": pool("max", (1, 7, 5, 2), (3, 2), (2, 1), "VALID"),
        "max_pool_explicit": pool("max", (1, 4, 4, 2), (2, 3), (2, 2), [(1, 0), (2, 1)]),
        "avg_pool_2x2_s2": pool("avg", (2, 4, 6, 3), (2, 2), (2, 2), "VALID"),
        "avg_pool_3x3_s2_same": pool("avg", (1, 5, 5, 2), (3, 3), (2, 2), "SAME"),
        "avg_pool_3x3_s2_same_exclude": pool("avg", (1, 5, 5, 2), (3, 3), (2, 2), "SAME", count_include_pad=False),
        "avg_pool_explicit_exclude": pool("avg", (2, 4, 5, 1), (2, 2), (1, 2), [(1, 1), (0, 2)], count_include_pad=False),
        "group_norm_nhwc": group_norm((2, 3, 4, 6), 3, 1e-6),
        "group_norm_2d": group_norm((3, 8), 2, 1e-5),
        "group_norm_rank3_g1": group_norm((2, 5, 4), 1, 1e-6),
        "rms_norm": rms_norm((3, 5), 1e-6),
        "rms_norm_rank3": rms_norm((2, 3, 4), 1e-3),
    }


def conv_grouped(x_shape, k_size, cout, groups, stride, padding, dilation=(1, 1)):
    """Flax Conv with feature_group_count: kernel [kh, kw, in/groups, out] is PyTorch's weight [out, in/groups, kh, kw]."""
    n, h, w, cin = x_shape
    x, kernel, bias = rand(*x_shape), rand(*k_size, cin // groups, cout, scale=0.5), rand(cout, scale=0.1)
    xt = x.permute(0, 3, 1, 2)
    if padding == "SAME":
        eh, ew = dilation[0] * (k_size[0] - 1) + 1, dilation[1] * (k_size[1] - 1) + 1
        (ph0, ph1), (pw0, pw1) = same_pads(h, eh, stride[0]), same_pads(w, ew, stride[1])
        xt = F.pad(xt, (pw0, pw1, ph0, ph1))
    out = F.conv2d(xt, kernel.permute(3, 2, 0, 1), bias, stride=stride, dilation=dilation, groups=groups).permute(0, 2, 3, 1)
    return finish({"x": x, "kernel": kernel, "bias": bias}, out, ["x", "kernel", "bias"],
                  {"groups": groups, "strides": list(stride), "padding": padding, "dilation": list(dilation)})


def transpose_pads(e, s, padding):
    """jax.lax's _conv_transpose_padding of the dilated kernel extent e, or explicit (low, high)."""
    if padding == "SAME":
        pad_len = e + s - 2
        pad_a = e - 1 if s > e - 1 else -(-pad_len // 2)
    elif padding == "VALID":
        pad_len = e + s - 2 + max(e - s, 0)
        pad_a = e - 1
    else:
        return padding
    return pad_a, pad_len - pad_a


def conv_transpose(x_shape, k_size, cout, stride, padding, dilation=(1, 1)):
    """Flax ConvTranspose (lax.conv_transpose, transpose_kernel=False): conv of the stride-dilated input, padded by
    (a, b), with the unflipped kernel. Computed here with PyTorch's conv_transpose2d at padding 0 (the full result:
    the dilated input padded by e - 1 on both sides, kernel flipped), given the flipped kernel, then cut or
    zero-extended to the pads (a, b) instead of (e - 1, e - 1), and the bias added."""
    n, h, w, cin = x_shape
    x, kernel, bias = rand(*x_shape), rand(*k_size, cin, cout, scale=0.5), rand(cout, scale=0.1)
    weight = kernel.flip(0, 1).permute(2, 3, 0, 1)  # [in, out, kh, kw], flipped
    full = F.conv_transpose2d(x.permute(0, 3, 1, 2), weight, stride=stride, dilation=dilation)
    for axis, (k, s, d, pad) in enumerate(zip(k_size, stride, dilation, padding if isinstance(padding, list) else [padding] * 2)):
        e = d * (k - 1) + 1
        a, b = transpose_pads(e, s, pad)
        dim = 2 + axis
        lo, hi = e - 1 - a, e - 1 - b  # rows of the full result to drop (negative: zeros to add)
        if lo > 0:
            full = full.narrow(dim, lo, full.shape[dim] - lo)
        elif lo < 0:
            full = torch.cat([torch.zeros_like(full.narrow(dim, 0, 1)).repeat_interleave(-lo, dim), full], dim)
        if hi > 0:
            full = full.narrow(dim, 0, full.shape[dim] - hi)
        elif hi < 0:
            full = torch.cat([full, torch.zeros_like(full.narrow(dim, 0, 1)).repeat_interleave(-hi, dim)], dim)
    out = (full + bias.view(1, -1, 1, 1)).permute(0, 2, 3, 1)
    return finish({"x": x, "kernel": kernel, "bias": bias}, out, ["x", "kernel", "bias"],
                  {"strides": list(stride), "padding": padding, "dilation": list(dilation)})


def groups_and_transposes():
    return {
        "conv_groups2_same": conv_grouped((2, 5, 5, 4), (3, 3), 6, 2, (1, 1), "SAME"),
        "conv_groups3_valid_s2": conv_grouped((1, 7, 6, 6), (3, 2), 3, 3, (2, 2), "VALID"),
        "conv_depthwise_same_dil2": conv_grouped((2, 6, 6, 3), (3, 3), 6, 3, (1, 1), "SAME", (2, 2)),
        "conv_transpose_same_s2": conv_transpose((2, 3, 4, 3), (3, 3), 2, (2, 2), "SAME"),
        "conv_transpose_valid_s2": conv_transpose((1, 3, 3, 2), (3, 2), 3, (2, 2), "VALID"),
        "conv_transpose_same_s1": conv_transpose((1, 4, 5, 2), (3, 3), 2, (1, 1), "SAME"),
        "conv_transpose_same_s3_k2": conv_transpose((1, 3, 2, 2), (2, 2), 2, (3, 3), "SAME"),
        "conv_transpose_same_s2_dil2": conv_transpose((1, 3, 3, 2), (2, 3), 2, (2, 1), "SAME", (2, 2)),
        "conv_transpose_explicit": conv_transpose((1, 3, 4, 2), (3, 3), 2, (2, 3), [(1, 0), (3, 4)]),
    }


def main():
    cases = {
        "linear": linear((4, 3)),
        "linear_rank3": linear((2, 3, 4)),
        "batch_norm_2d": batch_norm((6, 4), momentum=0.9),
        "batch_norm_nhwc": batch_norm((2, 3, 3, 4), momentum=0.99),
        "layer_norm": layer_norm((3, 5), eps=1e-6),
        "layer_norm_rank3": layer_norm((2, 3, 6), eps=1e-3),
        "conv_same_s1": conv((2, 5, 5, 3), (3, 3), 1, "SAME"),
        "conv_same_s2": conv((2, 5, 5, 3), (3, 3), 2, "SAME"),
        "conv_valid_s1": conv((2, 5, 5, 3), (3, 3), 1, "VALID"),
        "conv_valid_s2": conv((2, 6, 5, 3), (3, 2), 2, "VALID"),
        "conv_same_even_kernel": conv((1, 4, 5, 2), (2, 2), 1, "SAME"),
        "conv_same_s2_even": conv((1, 6, 6, 2), (4, 4), 2, "SAME"),
        "embed": embed(),
        "attention": attention(causal=False),
        "attention_causal": attention(causal=True),
    }
    cases.update({"act_" + k: v for k, v in activations().items()})
    cases.update({"loss_" + k: v for k, v in losses().items()})
    # Added later: drawn after the cases above, so their values are unchanged.
    cases.update({"act_" + k: v for k, v in more_activations().items()})
    cases.update(pools())
    cases.update(groups_and_transposes())
    # Cases already in the file keep their stored values: a rerun reproduces them only to the last ulp or two.
    if os.path.exists("layer_reference.json"):
        with open("layer_reference.json") as f:
            cases.update(json.load(f)["cases"])
    with open("layer_reference.json", "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)
    print(f"wrote {len(cases)} cases with torch {torch.__version__}")


if __name__ == "__main__":
    main()
