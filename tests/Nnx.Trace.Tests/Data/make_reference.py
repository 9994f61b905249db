#!/usr/bin/python3
"""Reference values for the composite gradient tests (tests/Nnx.Trace.Tests/Autodiff/ReferenceGradientTests.cs).

Run from this directory with PyTorch installed (Debian: apt-get install -y python3-torch):

    /usr/bin/python3 make_reference.py

It writes reference_gradients.json: for each case, the float64 inputs, the loss, and the gradients of the
loss with respect to the named inputs, all computed by PyTorch autograd. The tests only read the JSON.
"""
import json

import torch
import torch.nn.functional as F

torch.manual_seed(20240601)
D = torch.float64


def tensor(*shape, scale=1.0):
    return (torch.randn(*shape, dtype=D) * scale).requires_grad_(True)


def dump(t):
    return {"shape": list(t.shape), "data": t.detach().flatten().tolist()}


def case(name, inputs, loss, wrt):
    loss.backward()
    return name, {
        "inputs": {k: dump(v) for k, v in inputs.items()},
        "loss": loss.item(),
        "grads": {k: dump(inputs[k].grad) for k in wrt},
    }


def mlp_mse():
    x, y = tensor(8, 3), tensor(8, 2)
    w1, b1, w2, b2 = tensor(3, 5), tensor(5, scale=0.1), tensor(5, 2), tensor(2, scale=0.1)
    loss = ((torch.relu(x @ w1 + b1) @ w2 + b2 - y) ** 2).mean()
    return case("mlp_mse", dict(x=x, y=y, w1=w1, b1=b1, w2=w2, b2=b2), loss, ["x", "w1", "b1", "w2", "b2"])


def softmax_cross_entropy():
    x, w, b = tensor(6, 4), tensor(4, 5), tensor(5, scale=0.1)
    labels = torch.tensor([0, 3, 3, 1, 4, 3])
    loss = F.cross_entropy(x @ w + b, labels)
    name, data = case("softmax_cross_entropy", dict(x=x, w=w, b=b), loss, ["x", "w", "b"])
    data["labels"] = labels.tolist()
    return name, data


def batch_normalisation():
    x, gamma, beta, t = tensor(8, 4, scale=2.0), tensor(4), tensor(4), tensor(8, 4)
    mean = x.mean(0)
    var = ((x - mean) ** 2).mean(0)
    y = (x - mean) / torch.sqrt(var + 1e-5) * gamma + beta
    loss = ((torch.tanh(y) - t) ** 2).mean()
    return case("batch_normalisation", dict(x=x, gamma=gamma, beta=beta, t=t), loss, ["x", "gamma", "beta"])


cases = dict([mlp_mse(), softmax_cross_entropy(), batch_normalisation()])
cases["_meta"] = {"torch": torch.__version__, "dtype": "float64", "script": "tests/Nnx.Trace.Tests/Data/make_reference.py"}
with open("reference_gradients.json", "w") as f:
    json.dump(cases, f, indent=1)
    f.write("\n")
