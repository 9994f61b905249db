#!/usr/bin/python3
"""Moves a model between Nnx checkpoints (safetensors) and PyTorch state_dicts.

    torch_checkpoint.py to-torch   ckpt.safetensors model.pt                 # Nnx -> torch.save(state_dict)
    torch_checkpoint.py from-torch model.pt template.safetensors out.safetensors   # torch -> Nnx

The safetensors reading and writing needs only numpy, json and struct; torch is imported to save or load the
.pt file (and by callers that want torch tensors: to_state_dict(..., as_torch=True)).

Names: an Nnx state path `blocks/0/linear/kernel` is the torch key `blocks.0.linear.weight`. Layouts follow
each library's convention: a Linear kernel [in, out] is torch's weight [out, in]; a Conv kernel [kh, kw, in, out]
(or [k, in, out]) is torch's [out, in, kh, kw]; BatchNorm mean/var/scale are running_mean/running_var/weight
(plus torch's num_batches_tracked); LayerNorm scale and Embed embedding are weight. Only parameters and batch
statistics go to torch; from-torch writes them into a copy of an Nnx checkpoint (the template: optimizer state,
rng counters and metrics are kept from it), checking every shape and dtype.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I32": np.int32, "I64": np.int64,
          "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}
NAMES = {np.dtype(v): k for k, v in DTYPES.items()}


def read_safetensors(path):
    """(dict name -> numpy array, metadata dict) of a safetensors file, validated as the format requires."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        raise ValueError(f"{path}: header length {n} runs past the end of the file")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    buffer = memoryview(data)[8 + n:]
    metadata = header.pop("__metadata__", {})
    tensors, end = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, stop = e["data_offsets"]
        if begin != end or stop > len(buffer):
            raise ValueError(f"{path}: '{name}' has offsets {begin}..{stop}, expected to start at {end} within {len(buffer)} bytes")
        dtype = np.dtype(DTYPES[e["dtype"]]).newbyteorder("<")
        tensors[name] = np.frombuffer(buffer[begin:stop], dtype=dtype).reshape(e["shape"]).copy()
        end = stop
    if end != len(buffer):
        raise ValueError(f"{path}: {len(buffer) - end} bytes after the last tensor")
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes name -> numpy array as safetensors (header padded to 8 bytes, larger elements first)."""
    order = sorted(tensors, key=lambda k: -tensors[k].dtype.itemsize)
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in order:
        a = tensors[name]
        header[name] = {"dtype": NAMES[a.dtype.newbyteorder("=")], "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(np.ascontiguousarray(tensors[name]).astype(tensors[name].dtype.newbyteorder("<"), copy=False).tobytes())


def _torch_name(path, value, is_norm):
    """The torch key and the array in torch's layout for one Nnx entry."""
    head, _, leaf = path.rpartition("/")
    prefix = head.replace("/", ".") + "." if head else ""
    if leaf == "kernel":
        if value.ndim == 2:
            return prefix + "weight", value.T
        if value.ndim >= 3:   # [spatial..., in, out] -> [out, in, spatial...]
            return prefix + "weight", np.transpose(value, (value.ndim - 1, value.ndim - 2) + tuple(range(value.ndim - 2)))
    if leaf in ("scale", "embedding"):
        return prefix + "weight", value
    if is_norm and leaf in ("mean", "var"):
        return prefix + "running_" + leaf, value
    return path.replace("/", "."), value


def _from_torch_layout(leaf, array, like):
    if leaf == "kernel" and like.ndim == 2:
        return array.T
    if leaf == "kernel" and like.ndim >= 3:   # [out, in, spatial...] -> [spatial..., in, out]
        return np.transpose(array, tuple(range(2, like.ndim)) + (1, 0))
    return array


def _selected(tensors, metadata):
    """The entries that are parameters or batch statistics (by the kinds Nnx recorded), with BatchNorm modules found."""
    kinds = json.loads(metadata.get("nnx.kinds", "{}"))
    keep = [p for p in tensors if kinds.get(p, "Param") in ("Param", "BatchStat")]
    norms = {p.rpartition("/")[0] for p in keep if p.endswith("/var") and p.rpartition("/")[0] + "/mean" in tensors}
    return keep, norms


def to_state_dict(path, as_torch=True):
    """An Nnx checkpoint's parameters and batch statistics as a PyTorch-style state_dict (torch tensors, or numpy)."""
    tensors, metadata = read_safetensors(path)
    keep, norms = _selected(tensors, metadata)
    state = {}
    for p in keep:
        key, value = _torch_name(p, tensors[p], p.rpartition("/")[0] in norms)
        state[key] = np.ascontiguousarray(value)
    for n in norms:
        state[(n.replace("/", ".") + "." if n else "") + "num_batches_tracked"] = np.array(int(metadata.get("nnx.step", 0)), dtype=np.int64)
    if as_torch:
        import torch
        state = {k: torch.from_numpy(v) for k, v in state.items()}
    return state


def from_state_dict(state, template_path, out_path):
    """Writes a copy of the Nnx checkpoint `template_path` whose parameters and batch statistics come from `state`."""
    tensors, metadata = read_safetensors(template_path)
    keep, norms = _selected(tensors, metadata)
    out = dict(tensors)
    for p in keep:
        key, _ = _torch_name(p, tensors[p], p.rpartition("/")[0] in norms)
        if key not in state:
            raise KeyError(f"the state_dict has no '{key}' for Nnx path '{p}'")
        value = state[key]
        value = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        value = _from_torch_layout(p.rpartition("/")[2], value, tensors[p])
        if value.shape != tensors[p].shape:
            raise ValueError(f"'{key}' has shape {tuple(value.shape)} but Nnx path '{p}' needs {tensors[p].shape}")
        out[p] = np.ascontiguousarray(value.astype(tensors[p].dtype))
    write_safetensors(out_path, out, metadata)


def main(argv):
    if len(argv) == 3 and argv[0] == "to-torch":
        import torch
        torch.save(to_state_dict(argv[1]), argv[2])
    elif len(argv) == 4 and argv[0] == "from-torch":
        import torch
        from_state_dict(torch.load(argv[1]), argv[2], argv[3])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
