#!/usr/bin/python3
# Writes the PyTorch golden vectors in tests/golden/ that the layer, loss and optimizer tests
# compare with.
# Run from the repository root with Debian's python3-torch:  /usr/bin/python3 scripts/make_golden.py
# Deterministic: fixed seeds, inputs rounded to float32 values, references computed in float64.
"""Golden values for Sculpt's layers, losses and optimizers (the optimizer files are described
above optim_inputs() below).

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

Schedules: the learning-rate schedule files (tests/golden/sched_*.json, kind "schedule": a
recipe and the rate torch.optim.lr_scheduler gives at every step) come from a separate script,
scripts/make_sched_golden.py (run it the same way; this script's main() does not call it).
"""

import fnmatch
import json
import math
import os
import sys

import peer_deps  # noqa: F401  (installs torch and NumPy when missing)
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


def batch_norm_case(fname, dims, batch, in_shape, training, momentum, seed):
    """BatchNorm as torch computes it, in float64: the layer's golden file (kind "layer", so the
    generic test runs it) with the running statistics among the params and, in training, the
    "mode" and the running statistics after the forward ("buffers_after")."""
    gen = torch.Generator().manual_seed(seed)
    c = in_shape[0]
    x = rand(gen, batch, *in_shape, scale=2.0).requires_grad_(True)
    weight = (1.0 + rand(gen, c, scale=0.5)).requires_grad_(True)
    bias = rand(gen, c, scale=0.5).requires_grad_(True)
    run_mean = rand(gen, c, scale=0.3)
    run_var = 1.0 + rand(gen, c, scale=0.3).abs()
    start_mean, start_var = run_mean.clone(), run_var.clone()
    y = F.batch_norm(x, run_mean, run_var, weight, bias, training=training, momentum=momentum,
                     eps=1e-5)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    name = f"bn{dims}"
    obj = {
        "kind": "layer",
        "spec": {"type": f"batchnorm{dims}d", "name": name, "args": {"momentum": momentum}},
        "batch": batch, "in_shape": list(in_shape), "out_shape": list(y.shape[1:]),
        "x": flat_in(x.detach()),
        "params": {f"{name}.{s}": {"shape": [c], "data": flat_in(t.detach())}
                   for s, t in [("weight", weight), ("bias", bias), ("running_mean", start_mean),
                                ("running_var", start_var)]},
        "y": flat_out(y), "dy": flat_in(dy), "dx": flat_out(x.grad),
        "grads": {f"{name}.weight": flat_out(weight.grad), f"{name}.bias": flat_out(bias.grad)},
    }
    if training:
        obj["mode"] = "train"
        obj["buffers_after"] = {f"{name}.running_mean": flat_out(run_mean),
                                f"{name}.running_var": flat_out(run_var)}
    write(fname, obj)


def batch_norm_cases():
    batch_norm_case("batchnorm1d_train", 1, 6, [5], True, 0.1, 50)
    batch_norm_case("batchnorm1d_cl_eval", 1, 3, [4, 7], False, 0.1, 51)
    batch_norm_case("batchnorm2d_train", 2, 3, [3, 4, 5], True, 0.3, 52)
    batch_norm_case("batchnorm2d_eval", 2, 2, [3, 4, 5], False, 0.1, 53)


def graph_case():
    """A model graph, kind "graph": fc1 -> relu r1 -> fc2, sum = fc2 + r1 (add), cat = [sum, fc1]
    (concat), tanh, fc3; the logits for x and the parameter gradients of sum(logits * r). Covers
    the merge layers, which the single-layer cases cannot."""
    gen = torch.Generator().manual_seed(60)
    n = 4
    x = rand(gen, n, 5)
    shapes = {"fc1.weight": [6, 5], "fc1.bias": [6], "fc2.weight": [6, 6], "fc2.bias": [6],
              "fc3.weight": [3, 12], "fc3.bias": [3]}
    p = {k: rand(gen, *v, scale=0.5).requires_grad_(True) for k, v in shapes.items()}
    fc1 = F.linear(x, p["fc1.weight"], p["fc1.bias"])
    r1 = torch.relu(fc1)
    fc2 = F.linear(r1, p["fc2.weight"], p["fc2.bias"])
    total = fc2 + r1
    cat = torch.cat([total, fc1], dim=1)
    y = F.linear(torch.tanh(cat), p["fc3.weight"], p["fc3.bias"])
    r = rand(gen, *y.shape)
    y.backward(r)
    L = lambda t, name, args=None, inputs=None: {"type": t, "name": name, "args": args or {},
                                                  "inputs": inputs or []}
    write("graph_residual", {
        "kind": "graph",
        "layers": [L("linear", "fc1", {"out": 6}), L("relu", "r1"), L("linear", "fc2", {"out": 6}),
                   L("add", "sum", inputs=["fc2", "r1"]), L("concat", "cat", inputs=["sum", "fc1"]),
                   L("tanh", "t1"), L("linear", "fc3", {"out": 3})],
        "batch": n, "in_shape": [5], "x": flat_in(x),
        "params": {k: {"shape": shapes[k], "data": flat_in(t.detach())} for k, t in p.items()},
        "y": flat_out(y), "dy": flat_in(r),
        "grads": {k: flat_out(t.grad) for k, t in p.items()},
    })


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
    # x spans [-3, 3] so tanh, sigmoid and silu leave their linear region.
    cases = [("relu", torch.relu), ("tanh", torch.tanh), ("sigmoid", torch.sigmoid),
             ("flatten", lambda x: torch.flatten(x, 1)), ("silu", F.silu)]
    for i, (kind, fn) in enumerate(cases):
        layer_case(kind, {"type": kind, "name": f"{kind}1", "args": {}}, 3, [2, 3, 4], {},
                   fn, 30 + i, x_scale=3.0)
    # Added later, with seeds of their own so the files above stay byte-identical.
    layer_case("gelu", {"type": "gelu", "name": "gelu1", "args": {}}, 3, [2, 3, 4], {},
               lambda x: F.gelu(x, approximate="none"), 36, x_scale=3.0)
    layer_case("leakyrelu", {"type": "leakyrelu", "name": "leakyrelu1",
                             "args": {"negative_slope": 0.2}}, 3, [2, 3, 4], {},
               lambda x: F.leaky_relu(x, 0.2), 37, x_scale=3.0)
    layer_case("layernorm", {"type": "layernorm", "name": "ln1", "args": {}}, 3, [2, 3, 4],
               {"weight": [2, 3, 4], "bias": [2, 3, 4]},
               lambda x, weight, bias: F.layer_norm(x, [2, 3, 4], weight, bias, eps=1e-5), 39,
               x_scale=3.0)
    layer_case("globalavgpool", {"type": "globalavgpool", "name": "gap1", "args": {}}, 2,
               [3, 5, 6], {}, lambda x: torch.flatten(F.adaptive_avg_pool2d(x, 1), 1), 38)


def recurrent_cases():
    """Sequence layers: F.embedding, and PyTorch's own LSTM and GRU kernels (what
    torch.nn.LSTM / GRU(batch_first=True) call, one layer, zero initial state) on our tensors,
    so the gate order and the two biases are torch's."""
    from torch import _VF

    def lstm(x, weight_ih, weight_hh, bias_ih, bias_hh):
        zeros = torch.zeros(1, x.shape[0], weight_hh.shape[1], dtype=x.dtype)
        return _VF.lstm(x, (zeros, zeros), [weight_ih, weight_hh, bias_ih, bias_hh], True, 1, 0.0,
                        False, False, True)[0]

    def lstm_case(fname, batch, steps, fin, hidden, seed):
        layer_case(fname, {"type": "lstm", "name": "lstm1", "args": {"hidden": hidden}}, batch,
                   [steps, fin], {"weight_ih": [4 * hidden, fin], "weight_hh": [4 * hidden, hidden],
                                  "bias_ih": [4 * hidden], "bias_hh": [4 * hidden]},
                   lstm, seed, x_scale=2.0)

    # Linear on a sequence: every step (torch's Linear on the last axis).
    layer_case("linear_seq", {"type": "linear", "name": "fc1", "args": {"out": 4}}, 2, [3, 5],
               {"weight": [4, 5], "bias": [4]}, lambda x, weight, bias: F.linear(x, weight, bias),
               55)
    # Embedding: token ids in, rows of the table out; ids take no gradient (dx is zero).
    gen = torch.Generator().manual_seed(52)
    batch, steps, vocab, dim = 3, 6, 7, 4
    ids = torch.randint(0, vocab, (batch, steps), generator=gen)
    weight = rand(gen, vocab, dim, scale=0.5).requires_grad_(True)
    y = F.embedding(ids, weight)
    dy = rand(gen, *y.shape)
    y.backward(dy)
    write("embedding", {
        "kind": "layer",
        "spec": {"type": "embedding", "name": "emb1", "args": {"vocab": vocab, "dim": dim}},
        "batch": batch, "in_shape": [steps], "out_shape": [steps, dim],
        "x": [float(v) for v in ids.reshape(-1).tolist()],
        "params": {"emb1.weight": {"shape": [vocab, dim], "data": flat_in(weight.detach())}},
        "y": flat_out(y), "dy": flat_in(dy), "dx": [0.0] * (batch * steps),
        "grads": {"emb1.weight": flat_out(weight.grad)},
    })
    lstm_case("lstm_small", 3, 5, 4, 3, 50)
    lstm_case("lstm_wide", 2, 7, 3, 17, 51)  # a hidden width that is no SIMD multiple

    def gru(x, weight_ih, weight_hh, bias_ih, bias_hh):
        zeros = torch.zeros(1, x.shape[0], weight_hh.shape[1], dtype=x.dtype)
        return _VF.gru(x, zeros, [weight_ih, weight_hh, bias_ih, bias_hh], True, 1, 0.0, False,
                       False, True)[0]

    for fname, (batch, steps, fin, hidden, seed) in {"gru_small": (3, 5, 4, 3, 53),
                                                      "gru_wide": (2, 7, 3, 17, 54)}.items():
        layer_case(fname, {"type": "gru", "name": "gru1", "args": {"hidden": hidden}}, batch,
                   [steps, fin], {"weight_ih": [3 * hidden, fin], "weight_hh": [3 * hidden, hidden],
                                  "bias_ih": [3 * hidden], "bias_hh": [3 * hidden]},
                   gru, seed, x_scale=2.0)


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


# ----------------------------------------------------------------------------------------------
# Optimizers. Every case runs 50 steps over two tensors, "fc.weight" [7, 5] (decays) and
# "fc.bias" [7] (no decay unless a group says so), from shared initial values and per-step
# gradients (tests/golden/optim_inputs.json, kind "optim-inputs"; one copy keeps the files small).
# Each case file (kind "optim") names Sculpt's optimizer and options as a recipe would, the
# reference it was computed with, the learning rate of every step and the weights after some
# steps:
#   {"kind":"optim", "optimizer", "options":{...}, "groups":[{"params","lr_scale",
#    "weight_decay","frozen"}], "reference": "torch.optim.X" | "formula", "formula": how,
#    "inputs": "optim_inputs", "lr":[50 values], "weights":{"<step>": {"fc.weight":[...], ...}}}
# The references run in float64 from the float32 inputs. torch.optim is used wherever torch 1.13
# has the rule; the rest (Lion, the EMA momentum form, decoupled decay outside AdamW, the
# schedule-multiplied decay) is written below from the published formulas; a decoupled decay
# outside AdamW is applied by hand around a torch.optim step taken without weight decay, and
# such files say "formula" too, with the composition spelled out in "formula". So do the
# Lookahead files: torch.optim.SGD on the fast weights and the slow weights updated by hand.
#
# The tiny-MLP files (kind "optim-mlp") train a 6 -> 5 tanh -> 3 network with cross-entropy on
# a fixed batch for 50 steps with torch.optim and record the data, the initial and later
# parameters and the loss of every step.

OPTIM_STEPS = 50
OPTIM_CHECK = [1, 2, 10, 50]  # steps after which the weights are recorded (2: after the
                              # first-step special cases such as PyTorch's momentum buffer)
OPTIM_TENSORS = {"fc.weight": ([7, 5], True), "fc.bias": ([7], False)}  # shape, decays

# Sculpt's defaults where they are not PyTorch's plain l2 with weight_decay 0 (the script has to
# know them to run the reference; the C++ test then checks the defaults too).
OPTIM_DEFAULT_DECAY = {"adamw": (0.01, "decoupled"), "lion": (0.0, "decoupled")}


def optim_inputs():
    """Initial weights and per-step gradients, float32-exact. The gradient scale changes from
    step to step (a factor between 0.1 and 3) so that second-moment estimates both grow and
    shrink (AMSGrad's running maximum matters only when they shrink)."""
    gen = torch.Generator().manual_seed(100)
    init, grads = {}, {}
    for name, (shape, _) in OPTIM_TENSORS.items():
        init[name] = rand(gen, *shape, scale=0.8)
    scales = torch.exp(torch.rand(OPTIM_STEPS, generator=gen, dtype=torch.float64)
                       * math.log(30.0)) * 0.1
    for name, (shape, _) in OPTIM_TENSORS.items():
        grads[name] = [rand(gen, *shape, scale=float(scales[t])) for t in range(OPTIM_STEPS)]
    write("optim_inputs", {
        "kind": "optim-inputs",
        "steps": OPTIM_STEPS,
        "params": {name: {"shape": shape, "decays": decays, "init": flat_in(init[name])}
                   for name, (shape, decays) in OPTIM_TENSORS.items()},
        "grads": {name: [flat_in(g) for g in grads[name]] for name in OPTIM_TENSORS},
    })
    return init, grads


def lr_schedule(kind, base):
    """Per-step learning rates: constant, or a staircase (x0.3 at step 15, x0.3 again at 35)."""
    if kind == "constant":
        return [base] * OPTIM_STEPS
    assert kind == "step"
    return [base * (0.3 ** ((t >= 15) + (t >= 35))) for t in range(OPTIM_STEPS)]


# Formula references, float64, per tensor: update(state, w, d, lr) returns the step u with
# w <- keep * w - u, where d = g + l2 * w is already formed and state is a dict of tensors.

def lion_update(beta1, beta2):
    # Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023, Program 1:
    #   c = beta1 * m + (1 - beta1) * g;  w = w - lr * (sign(c) + wd * w);
    #   m = beta2 * m + (1 - beta2) * g
    def update(state, w, d, lr):
        m = state.setdefault("m", torch.zeros_like(w))
        c = beta1 * m + (1 - beta1) * d
        # The sign must not hinge on rounding: float32 and float64 have to agree on it.
        margin = (beta1 * m.abs() + (1 - beta1) * d.abs()) * 1e-5 + 1e-12
        assert bool((c.abs() > margin).all()), "Lion: a momentum c is ~0; change the seed"
        state["m"] = beta2 * m + (1 - beta2) * d
        return lr * torch.sign(c)
    return update


def sgd_ema_update(mu, nesterov):
    # The EMA ("dampened") momentum of the seed articles, e.g. Goodfellow, Bengio & Courville,
    # "Deep Learning", 2016, 8.3.2 with (1 - mu) on the gradient:  v = mu * v + (1 - mu) * d from
    # v = 0;  Nesterov (Sutskever et al., ICML 2013, in PyTorch's form): step along d + mu * v.
    def update(state, w, d, lr):
        v = state.setdefault("v", torch.zeros_like(w))
        v = mu * v + (1 - mu) * d
        state["v"] = v
        return lr * (d + mu * v if nesterov else v)
    return update


def lookahead_sync(t, slow, phi, w, live):
    """Lookahead (Zhang, Lucas, Hinton & Ba, NeurIPS 2019, Algorithm 1) around any inner step:
    slow = (k, alpha); after steps t + 1 = k, 2k, ...: phi <- phi + alpha*(w - phi); w <- phi,
    with phi starting as the initial weights."""
    k, alpha = slow
    if (t + 1) % k != 0:
        return
    for n in live:
        phi[n] += alpha * (w[n] - phi[n])
        w[n].copy_(phi[n])


def run_optim_case(init, grads, lrs, base_lr, settings, torch_opt=None, formula=None, style="l2",
                   slow=None):
    """Runs one case in float64. settings: {name: (lr_scale, weight_decay, frozen)}.
    torch_opt: (class, kwargs) without lr/weight_decay; formula: an update() as above.
    Decay: style l2 goes to torch's weight_decay (or d = g + wd * w for formulas); decoupled with
    AdamW goes to AdamW's weight_decay; any other decoupled decay multiplies the weights by
    keep = 1 - lr_t * wd ("decoupled") or 1 - (lr_t / lr) * wd ("decoupled-schedule") just before
    the step, which is exactly w <- keep * w - u since u does not read w when there is no l2.
    slow: Lookahead's (k, alpha) around the step (lookahead_sync), or None."""
    w = {n: init[n].clone().requires_grad_(True) for n in init}
    phi = {n: init[n].clone() for n in init}
    live = [n for n in init if not settings[n][2]]
    native_decay = style == "l2" or (style == "decoupled" and torch_opt is not None
                                     and torch_opt[0] is torch.optim.AdamW)
    if torch_opt is not None:
        assert not (style == "l2" and torch_opt[0] is torch.optim.AdamW)
        cls, kwargs = torch_opt
        groups = [{"params": [w[n]], "lr": lrs[0] * settings[n][0],
                   "weight_decay": settings[n][1] if native_decay else 0.0} for n in live]
        opt = cls(groups, **kwargs)
    states = {n: {} for n in init}
    record = {}
    for t in range(OPTIM_STEPS):
        with torch.no_grad():
            for n in live:
                w[n].grad = grads[n][t].clone()
                scale, wd, _ = settings[n]
                if not native_decay and wd != 0.0:
                    mult = lrs[t] * scale if style == "decoupled" else lrs[t] / base_lr
                    w[n].mul_(1.0 - mult * wd)
            if torch_opt is not None:
                for group, n in zip(opt.param_groups, live):
                    group["lr"] = lrs[t] * settings[n][0]
                opt.step()
            else:
                for n in live:
                    scale, wd, _ = settings[n]
                    d = w[n].grad + (wd * w[n] if style == "l2" else 0.0)
                    w[n].sub_(formula(states[n], w[n], d, lrs[t] * scale))
            if slow is not None:
                lookahead_sync(t, slow, phi, w, live)
        if t + 1 in OPTIM_CHECK:
            record[str(t + 1)] = {n: flat_out(w[n]) for n in init}
    return record


def optim_case(init, grads, fname, optimizer, options, torch_opt=None, formula=None,
               formula_doc="", schedule="constant", groups=None, torch_lr=None, slow=None):
    """One golden file. options: Sculpt's [optim] keys (lr required unless torch_lr gives
    torch's default); groups: Sculpt [[optim.groups]] tables (glob patterns); slow: Lookahead's
    (k, alpha) around the torch or formula step."""
    base_lr = options.get("lr", torch_lr)
    wd_default, style_default = OPTIM_DEFAULT_DECAY.get(optimizer, (0.0, "l2"))
    wd = options.get("weight_decay", wd_default)
    style = options.get("decay_style", style_default)
    settings = {n: (1.0, wd if decays else 0.0, False) for n, (_, decays) in OPTIM_TENSORS.items()}
    taken = set()
    for g in groups or []:  # the first group whose glob matches a tensor decides
        for n in OPTIM_TENSORS:
            if n in taken or not any(fnmatch.fnmatchcase(n, pat) for pat in g["params"]):
                continue
            taken.add(n)
            settings[n] = (g.get("lr_scale", 1.0), g.get("weight_decay", settings[n][1]),
                           g.get("frozen", False))
    lrs = lr_schedule(schedule, base_lr)
    record = run_optim_case(init, grads, lrs, base_lr, settings, torch_opt, formula, style, slow)
    decays = any(wd != 0.0 for _, wd, frozen in settings.values() if not frozen)
    native = not decays or style == "l2" or (
        style == "decoupled" and torch_opt is not None and torch_opt[0] is torch.optim.AdamW)
    if torch_opt is not None and native and slow is None:
        ref = f"torch.optim.{torch_opt[0].__name__}"
        args = ", ".join(f"{k}={v}" for k, v in torch_opt[1].items())
        how = f"{ref}({args})"
    else:
        ref = "formula"
        how = formula_doc
    obj = {"kind": "optim", "optimizer": optimizer, "options": options, "groups": groups or [],
           "reference": ref, "formula" if ref == "formula" else "torch": how,
           "schedule": schedule, "inputs": "optim_inputs", "lr": lrs, "weights": record}
    write(fname, obj)


def optim_cases():
    init, grads = optim_inputs()
    O = torch.optim
    WD = 0.05  # l2 coefficient of the "_wd" cases
    c = lambda *a, **k: optim_case(init, grads, *a, **k)

    # SGD and its momentum forms.
    c("optim_sgd", "sgd", {"lr": 0.05}, (O.SGD, {}))
    c("optim_sgd_wd", "sgd", {"lr": 0.05, "weight_decay": WD}, (O.SGD, {}), schedule="step")
    c("optim_sgd_momentum", "sgd", {"lr": 0.05, "momentum": 0.9}, (O.SGD, {"momentum": 0.9}))
    c("optim_sgd_momentum_wd", "sgd", {"lr": 0.05, "momentum": 0.9, "weight_decay": WD},
      (O.SGD, {"momentum": 0.9}), schedule="step")
    c("optim_sgd_nesterov", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True},
      (O.SGD, {"momentum": 0.9, "nesterov": True}))
    c("optim_sgd_nesterov_wd", "sgd",
      {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": WD},
      (O.SGD, {"momentum": 0.9, "nesterov": True}))
    # Parameter groups: the biases at half the rate and with their own decay.
    c("optim_sgd_nesterov_wd_groups", "sgd",
      {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": WD},
      (O.SGD, {"momentum": 0.9, "nesterov": True}), schedule="step",
      groups=[{"params": ["fc.bias"], "lr_scale": 0.5, "weight_decay": 0.02}])
    c("optim_sgd_dampening", "sgd", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
      (O.SGD, {"momentum": 0.8, "dampening": 0.3}))
    c("optim_sgd_dampening_wd", "sgd",
      {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": WD},
      (O.SGD, {"momentum": 0.8, "dampening": 0.3}))
    c("optim_sgd_ema", "sgd", {"lr": 0.2, "momentum": 0.9, "momentum_form": "ema"},
      formula=sgd_ema_update(0.9, False),
      formula_doc="EMA momentum: v = mu*v + (1-mu)*g from v = 0; w = w - lr*v")
    c("optim_sgd_ema_wd", "sgd",
      {"lr": 0.2, "momentum": 0.9, "momentum_form": "ema", "weight_decay": WD},
      formula=sgd_ema_update(0.9, False), schedule="step",
      formula_doc="EMA momentum with l2: d = g + wd*w; v = mu*v + (1-mu)*d from v = 0; "
                  "w = w - lr*v")
    c("optim_sgd_ema_nesterov", "sgd",
      {"lr": 0.2, "momentum": 0.9, "momentum_form": "ema", "nesterov": True},
      formula=sgd_ema_update(0.9, True),
      formula_doc="EMA momentum, Nesterov: v = mu*v + (1-mu)*g from v = 0; w = w - lr*(g + mu*v)")
    c("optim_sgd_momentum_decoupled", "sgd",
      {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "decay_style": "decoupled"},
      (O.SGD, {"momentum": 0.9}), schedule="step",
      formula_doc="decoupled decay (Loshchilov & Hutter 2019) w = (1 - lr_t*wd)*w, then "
                  "torch.optim.SGD(momentum=0.9) without weight decay")

    # AdaGrad with lr decay and an initial accumulator.
    ada = {"lr_decay": 0.01, "initial_accumulator_value": 0.1}
    c("optim_adagrad", "adagrad", {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator": 0.1},
      (O.Adagrad, ada))
    c("optim_adagrad_wd", "adagrad",
      {"lr": 0.05, "lr_decay": 0.01, "initial_accumulator": 0.1, "weight_decay": WD},
      (O.Adagrad, ada), schedule="step")
    c("optim_adagrad_defaults", "adagrad", {}, (O.Adagrad, {}), torch_lr=0.01)

    # RMSprop: plain, centered, momentum.
    c("optim_rmsprop", "rmsprop", {"lr": 0.01}, (O.RMSprop, {}))
    c("optim_rmsprop_wd", "rmsprop", {"lr": 0.01, "weight_decay": WD}, (O.RMSprop, {}),
      schedule="step")
    c("optim_rmsprop_centered", "rmsprop", {"lr": 0.01, "alpha": 0.9, "centered": True},
      (O.RMSprop, {"alpha": 0.9, "centered": True}))
    c("optim_rmsprop_centered_wd", "rmsprop",
      {"lr": 0.01, "alpha": 0.9, "centered": True, "weight_decay": WD},
      (O.RMSprop, {"alpha": 0.9, "centered": True}))
    c("optim_rmsprop_momentum", "rmsprop", {"lr": 0.005, "momentum": 0.9, "eps": 1e-6},
      (O.RMSprop, {"momentum": 0.9, "eps": 1e-6}))
    c("optim_rmsprop_momentum_wd", "rmsprop",
      {"lr": 0.005, "momentum": 0.9, "eps": 1e-6, "weight_decay": WD},
      (O.RMSprop, {"momentum": 0.9, "eps": 1e-6}), schedule="step")
    c("optim_rmsprop_alpha_9999", "rmsprop", {"lr": 1e-4, "alpha": 0.9999},
      (O.RMSprop, {"alpha": 0.9999}))
    c("optim_rmsprop_centered_momentum", "rmsprop",
      {"lr": 0.005, "momentum": 0.5, "centered": True},
      (O.RMSprop, {"momentum": 0.5, "centered": True}))

    # Adam, AMSGrad, AdamW.
    c("optim_adam", "adam", {"lr": 0.01}, (O.Adam, {}))
    c("optim_adam_wd", "adam", {"lr": 0.01, "beta1": 0.8, "beta2": 0.99, "weight_decay": WD},
      (O.Adam, {"betas": (0.8, 0.99)}), schedule="step")
    c("optim_adam_defaults", "adam", {}, (O.Adam, {}), torch_lr=1e-3)
    # beta2 near 1: 1 - beta2 must be formed in double (1.0f - float(0.9999) is 1.7e-4 off).
    c("optim_adam_beta2_9999", "adam", {"lr": 0.01, "beta2": 0.9999},
      (O.Adam, {"betas": (0.9, 0.9999)}))
    c("optim_adam_frozen_bias", "adam", {"lr": 0.01}, (O.Adam, {}),
      groups=[{"params": ["*.bias"], "frozen": True}])
    c("optim_adam_amsgrad", "adam", {"lr": 0.01, "amsgrad": True}, (O.Adam, {"amsgrad": True}))
    c("optim_adam_amsgrad_wd", "adam", {"lr": 0.01, "amsgrad": True, "weight_decay": WD},
      (O.Adam, {"amsgrad": True}), schedule="step")
    c("optim_amsgrad", "amsgrad", {"lr": 0.01, "beta2": 0.9}, (O.Adam, {"amsgrad": True,
                                                                        "betas": (0.9, 0.9)}))
    c("optim_amsgrad_wd", "amsgrad", {"lr": 0.01, "weight_decay": WD}, (O.Adam, {"amsgrad": True}))
    c("optim_adam_decoupled", "adam", {"lr": 0.01, "weight_decay": 0.1, "decay_style": "decoupled"},
      (O.AdamW, {}), schedule="step")
    c("optim_adamw", "adamw", {"lr": 0.01}, (O.AdamW, {}))  # default decay 0.01, decoupled
    c("optim_adamw_nowd", "adamw", {"lr": 0.01, "weight_decay": 0.0}, (O.AdamW, {}))
    c("optim_adamw_wd", "adamw", {"lr": 0.01, "weight_decay": 0.5, "eps": 1e-6},
      (O.AdamW, {"eps": 1e-6}), schedule="step")
    c("optim_adamw_amsgrad", "adamw", {"lr": 0.01, "weight_decay": 0.5, "amsgrad": True},
      (O.AdamW, {"amsgrad": True}))
    c("optim_adamw_schedule", "adamw",
      {"lr": 0.01, "weight_decay": 0.01, "decay_style": "decoupled-schedule"},
      (O.AdamW, {}), schedule="step",
      formula_doc="schedule-multiplied decoupled decay (Loshchilov & Hutter 2019, Algorithm 2: "
                  "eta_t * lambda * w with eta_t = lr_t / lr) w = (1 - (lr_t/lr)*wd)*w, then "
                  "torch.optim.AdamW without weight decay")

    # NAdam. torch 1.13's default (single-tensor) NAdam computes the look-ahead product as
    # mu_product * mu * mu_next, counting mu_t twice; its foreach path and torch >= 2.0
    # (pytorch/pytorch#92699) use mu_1 * ... * mu_t * mu_{t+1}, Dozat's rule, which Sculpt follows.
    nadam = {"foreach": True}
    c("optim_nadam", "nadam", {"lr": 0.01}, (O.NAdam, nadam))
    c("optim_nadam_wd", "nadam", {"lr": 0.01, "weight_decay": WD, "momentum_decay": 0.01},
      (O.NAdam, {**nadam, "momentum_decay": 0.01}), schedule="step")
    c("optim_nadam_defaults", "nadam", {}, (O.NAdam, nadam), torch_lr=2e-3)
    c("optim_nadam_beta2_9999", "nadam", {"lr": 0.01, "beta2": 0.9999},
      (O.NAdam, {**nadam, "betas": (0.9, 0.9999)}))
    c("optim_rmsprop_decoupled", "rmsprop",
      {"lr": 0.01, "weight_decay": 0.1, "decay_style": "decoupled"}, (O.RMSprop, {}),
      formula_doc="decoupled decay w = (1 - lr_t*wd)*w, then torch.optim.RMSprop without weight "
                  "decay")

    # Lion (not in torch 1.13).
    c("optim_lion", "lion", {"lr": 0.01, "weight_decay": 0.0}, formula=lion_update(0.9, 0.99),
      formula_doc="Lion (Chen et al. 2023): c = b1*m + (1-b1)*g; w = w - lr*sign(c); "
                  "m = b2*m + (1-b2)*g")
    c("optim_lion_wd", "lion", {"lr": 0.01, "weight_decay": 0.5}, formula=lion_update(0.9, 0.99),
      schedule="step",
      formula_doc="Lion with its decoupled decay: w = (1 - lr_t*wd)*w - lr_t*sign(c)")
    c("optim_lion_schedule", "lion",
      {"lr": 0.01, "beta1": 0.95, "beta2": 0.98, "weight_decay": 0.02,
       "decay_style": "decoupled-schedule"},
      formula=lion_update(0.95, 0.98), schedule="step",
      formula_doc="Lion, decay w = (1 - (lr_t/lr)*wd)*w")
    c("optim_lion_l2", "lion", {"lr": 0.01, "weight_decay": WD, "decay_style": "l2"},
      formula=lion_update(0.9, 0.99),
      formula_doc="Lion on d = g + wd*w (l2 penalty)")

    # Lookahead (not in torch 1.13) around torch.optim.SGD. k = 3 and 4 put the recorded steps
    # 10 and 50 one or two fast steps after a synchronisation; the defaults (k = 5) on one.
    def lookahead_doc(k, alpha, sgd):
        return (f"Lookahead (Zhang et al. 2019): torch.optim.SGD({sgd}) on the fast weights w; "
                f"after steps {k}, {2 * k}, ...: phi = phi + {alpha}*(w - phi), w = phi "
                f"(phi from the initial weights)")
    c("optim_lookahead", "lookahead", {"lr": 0.05, "momentum": 0.9, "k": 3, "alpha": 0.5},
      (O.SGD, {"momentum": 0.9}), slow=(3, 0.5), formula_doc=lookahead_doc(3, 0.5, "momentum=0.9"))
    c("optim_lookahead_nesterov_wd", "lookahead",
      {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": WD, "k": 4, "alpha": 0.8},
      (O.SGD, {"momentum": 0.9, "nesterov": True}), schedule="step", slow=(4, 0.8),
      formula_doc=lookahead_doc(4, 0.8, f"momentum=0.9, nesterov=True, weight_decay={WD}"))
    c("optim_lookahead_defaults", "lookahead", {}, (O.SGD, {"momentum": 0.9}), torch_lr=0.01,
      slow=(5, 0.5), formula_doc=lookahead_doc(5, 0.5, "momentum=0.9"))


def mlp_case(fname, optimizer, options, torch_opt, wd_weights=0.0):
    """A 6 -> 5 tanh -> 3 MLP, cross-entropy, one fixed batch of 8, 50 steps, constant lr."""
    gen = torch.Generator().manual_seed(200)
    n, fin, hidden, k = 8, 6, 5, 3
    x = rand(gen, n, fin, scale=1.5)
    labels = torch.randint(0, k, (n,), generator=gen)
    shapes = {"fc1.weight": [hidden, fin], "fc1.bias": [hidden],
              "fc2.weight": [k, hidden], "fc2.bias": [k]}
    params = {name: rand(gen, *s, scale=0.6).requires_grad_(True) for name, s in shapes.items()}
    init = {name: flat_in(p.detach()) for name, p in params.items()}
    weights = [params["fc1.weight"], params["fc2.weight"]]
    biases = [params["fc1.bias"], params["fc2.bias"]]
    cls, kwargs = torch_opt
    opt = cls([{"params": weights, "weight_decay": wd_weights},
               {"params": biases, "weight_decay": 0.0}], lr=options["lr"], **kwargs)
    losses, record = [], {}
    for t in range(OPTIM_STEPS):
        opt.zero_grad()
        h = torch.tanh(F.linear(x, params["fc1.weight"], params["fc1.bias"]))
        z = F.linear(h, params["fc2.weight"], params["fc2.bias"])
        loss = F.cross_entropy(z, labels, reduction="mean")
        loss.backward()
        losses.append(float(f"{loss.item():.{OUT_DIGITS}g}"))
        opt.step()
        if t + 1 in OPTIM_CHECK:
            record[str(t + 1)] = {name: flat_out(p) for name, p in params.items()}
    write(fname, {
        "kind": "optim-mlp",
        "optimizer": optimizer,
        "options": options,
        "reference": f"torch.optim.{cls.__name__}",
        "torch": f"torch.optim.{cls.__name__}({', '.join(f'{k}={v}' for k, v in kwargs.items())}), "
                 f"weight_decay {wd_weights} on weights, 0 on biases",
        "layers": [{"type": "linear", "name": "fc1", "args": {"out": hidden}},
                   {"type": "tanh", "name": "tanh1", "args": {}},
                   {"type": "linear", "name": "fc2", "args": {"out": k}}],
        "loss": "cross-entropy",
        "in_shape": [fin],
        "n": n,
        "x": flat_in(x),
        "labels": labels.tolist(),
        "params": {name: {"shape": shapes[name], "data": init[name]} for name in shapes},
        "losses": losses,
        "weights": record,
    })


def optim_mlp_cases():
    mlp_case("optim_mlp_adam", "adam", {"lr": 0.01}, (torch.optim.Adam, {}))
    mlp_case("optim_mlp_sgd_nesterov", "sgd",
             {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
             (torch.optim.SGD, {"momentum": 0.9, "nesterov": True}), wd_weights=0.01)


def main():
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    linear_cases()
    conv_cases()
    pool_cases()
    graph_case()
    batch_norm_cases()
    activation_cases()
    recurrent_cases()
    loss_cases()
    optim_cases()
    optim_mlp_cases()
    files = [f for f in os.listdir(OUT_DIR) if f.endswith(".json")]
    total = sum(os.path.getsize(os.path.join(OUT_DIR, f)) for f in files)
    print(f"wrote {len(files)} files, {total} bytes, into {os.path.normpath(OUT_DIR)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
