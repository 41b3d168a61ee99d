#!/usr/bin/python3
# Writes the PyTorch golden vectors in tests/golden/ that the layer and loss tests compare with.
# Run from the repository root with Debian's python3-torch:  /usr/bin/python3 scripts/make_golden.py
# Deterministic: fixed seeds, inputs rounded to float32 values, references computed in float64.
"""Golden values for Sculpt's layers and losses.

Inputs and parameters are drawn with a fixed seed, rounded to 6 significant digits and then to
float32, so the C++ side (float32) sees exactly the numbers torch used; torch then computes the
outputs and gradients in float64. Each file holds one case:

  layer files: {"kind":"layer", "spec":{"type","name","args"}, "batch", "in_shape" (per sample),
                "out_shape", "x", "params":{"<name>.weight": {"shape","data"}, ...}, "y", "dy",
                "dx", "grads":{"<name>.weight": [...], ...}}
  loss files:  {"kind":"loss", "loss" (registry name), "n", "k", "logits", "labels" or "values",
                "value" (the mean loss), "dlogits"}

Tensors are flat row-major lists; layouts match ours (Linear weight [out, in], Conv2d weight
[out_c, in_c, kh, kw], activations [N, C, H, W]).
"""

import json
import os
import sys

import torch
import torch.nn.functional as F

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
IN_DIGITS = 6     # significant digits of inputs (then rounded to float32)
OUT_DIGITS = 10   # significant digits of float64 references


def exact_f32(t):
    """Rounds to IN_DIGITS significant digits, then to float32; returns float64 holding it."""
    vals = [float(f"{v:.{IN_DIGITS}g}") for v in t.reshape(-1).tolist()]
    return torch.tensor(vals, dtype=torch.float32).reshape(t.shape).double()


def rand(gen, *shape, scale=1.0):
    return exact_f32((torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale)


def flat_in(t):
    # Inputs are IN_DIGITS-digit decimals rounded to float32, so printing IN_DIGITS digits gives
    # back that decimal, which strtof maps to the very same float32.
    return [float(f"{v:.{IN_DIGITS}g}") for v in t.reshape(-1).tolist()]


def flat_out(t):
    return [float(f"{v:.{OUT_DIGITS}g}") for v in t.detach().reshape(-1).tolist()]


def write(name, obj):
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    return path


def layer_case(fname, spec, batch, in_shape, params, fn, seed, x_scale=1.0):
    """params: {suffix: shape}; fn(x, **tensors) -> y. Runs forward+backward in float64."""
    gen = torch.Generator().manual_seed(seed)
    x = rand(gen, batch, *in_shape, scale=x_scale).requires_grad_(True)
    ptensors = {}
    for suffix, shape in params.items():
        ptensors[suffix] = rand(gen, *shape, scale=0.5).requires_grad_(True)
    y = fn(x, **ptensors)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    lname = spec["name"]
    write(fname, {
        "kind": "layer",
        "spec": spec,
        "batch": batch,
        "in_shape": list(in_shape),
        "out_shape": list(y.shape[1:]),
        "x": flat_in(x.detach()),
        "params": {f"{lname}.{s}": {"shape": list(t.shape), "data": flat_in(t.detach())}
                   for s, t in ptensors.items()},
        "y": flat_out(y),
        "dy": flat_in(dy),
        "dx": flat_out(x.grad),
        "grads": {f"{lname}.{s}": flat_out(t.grad) for s, t in ptensors.items()},
    })


def linear_cases():
    for tag, (n, fin, fout, seed) in {"small": (4, 5, 3, 1), "odd": (3, 37, 19, 2)}.items():
        layer_case(f"linear_{tag}", {"type": "linear", "name": "fc1", "args": {"out": fout}},
                   n, [fin], {"weight": [fout, fin], "bias": [fout]},
                   lambda x, weight, bias: F.linear(x, weight, bias), seed)


def conv_cases():
    # (tag, in_c, out_c, h, w, kernel, stride, padding); non-square inputs catch H/W swaps.
    configs = [("k3s1p0", 2, 3, 7, 6, 3, 1, 0), ("k5s1p2", 2, 3, 6, 7, 5, 1, 2),
               ("k3s2p1", 2, 3, 7, 8, 3, 2, 1), ("k5s1p2_c1", 1, 4, 8, 8, 5, 1, 2)]
    for i, (tag, ic, oc, h, w, k, s, p) in enumerate(configs):
        spec = {"type": "conv2d", "name": "conv1",
                "args": {"out": oc, "kernel": k, "stride": s, "padding": p}}
        layer_case(f"conv2d_{tag}", spec, 2, [ic, h, w],
                   {"weight": [oc, ic, k, k], "bias": [oc]},
                   lambda x, weight, bias, s=s, p=p: F.conv2d(x, weight, bias, stride=s, padding=p),
                   10 + i)


def pool_cases():
    configs = [("maxpool2d", "k2s2", 2, 2, 0, [2, 7, 6]), ("maxpool2d", "k3s2p1", 3, 2, 1, [2, 7, 8]),
               ("avgpool2d", "k2s2", 2, 2, 0, [2, 7, 6]), ("avgpool2d", "k3s1p1", 3, 1, 1, [2, 5, 6])]
    for i, (kind, tag, k, s, p, in_shape) in enumerate(configs):
        spec = {"type": kind, "name": "pool1", "args": {"kernel": k, "stride": s, "padding": p}}
        if kind == "maxpool2d":
            fn = lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p)
        else:
            fn = lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p, count_include_pad=True)
        layer_case(f"{kind}_{tag}", spec, 2, in_shape, {}, fn, 20 + i)


def activation_cases():
    # x spans [-3, 3] so tanh and sigmoid leave their linear region.
    cases = [("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
             ("flatten", lambda x: torch.flatten(x, 1))]
    for i, (kind, fn) in enumerate(cases):
        layer_case(kind, {"type": kind, "name": f"{kind}1", "args": {}}, 3, [2, 3, 4], {},
                   fn, 30 + i, x_scale=3.0)


def loss_case(fname, registry_name, n, k, seed, make_targets, torch_loss):
    gen = torch.Generator().manual_seed(seed)
    logits = rand(gen, n, k, scale=3.0).requires_grad_(True)
    targets, record = make_targets(gen)
    value = torch_loss(logits, targets)
    value.backward()
    obj = {"kind": "loss", "loss": registry_name, "n": n, "k": k, "logits": flat_in(logits.detach())}
    obj.update(record)
    obj["value"] = float(f"{value.item():.{OUT_DIGITS}g}")
    obj["dlogits"] = flat_out(logits.grad)
    write(fname, obj)


def loss_cases():
    n, k = 6, 5
    def ce_targets(gen):
        labels = torch.randint(0, k, (n,), generator=gen)
        return labels, {"labels": labels.tolist()}
    loss_case("loss_cross_entropy", "cross-entropy", n, k, 40, ce_targets,
              lambda z, t: F.cross_entropy(z, t, reduction="mean"))

    def bce_targets(gen):
        labels = torch.randint(0, 2, (n,), generator=gen)
        return labels.double().reshape(n, 1), {"labels": labels.tolist()}
    loss_case("loss_bce", "bce", n, 1, 41, bce_targets,
              lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction="mean"))

    # MSE: PyTorch's mean is over all n*k elements; k > 1 pins that convention down.
    def mse_targets(gen):
        values = rand(gen, n, 3, scale=2.0)
        return values, {"values": flat_in(values)}
    loss_case("loss_mse", "mse", n, 3, 42, mse_targets,
              lambda z, t: F.mse_loss(z, t, reduction="mean"))


def main():
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    linear_cases()
    conv_cases()
    pool_cases()
    activation_cases()
    loss_cases()
    files = [f for f in os.listdir(OUT_DIR) if f.endswith(".json")]
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in files)
    print(f"wrote {len(files)} files, {total} bytes, into {os.path.normpath(OUT_DIR)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
