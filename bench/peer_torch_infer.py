#!/usr/bin/python3
# The inference half of the PyTorch peer (bench/peer_torch.py runs it): workload D of PEERS.md,
# one forward pass of model A dense or pruned to 95% per layer, the same on trained and pruned
# models read from Sculpt's own export (the weights Sculpt runs), and the size of the pruned
# model as torch.save writes it. See docs/benchmarks.md, "Inference".
import io
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from peer_torch_lstm import INFER_SEED, run_lstm_step  # infer-lstm-b1, infer-lstm80-b1

RANDOM_CASES = ("infer-mlp-b1", "infer-mlp-b256", "infer-sparse95-b1", "infer-sparse95-b256")
# Trained and pruned models: the export given by --model (./bench/run trains them, see
# TRAINED_MODELS there): the MLP of recipes/prune-gradual.toml (95%), LeNet-5 at 90%.
TRAINED_CASES = ("infer-trained95-b1", "infer-trained95-b256", "infer-lenet90-b1",
                 "infer-lenet90-b256")
# One generated token of the character LSTM (run_lstm_step).
LSTM_CASES = ("infer-lstm-b1", "infer-lstm80-b1")
INFER_CASES = RANDOM_CASES + TRAINED_CASES + LSTM_CASES
SIZE_CASES = ("export-size-95", "export-size-95-fp16")
INFER_MODES = ("inference", "no-grad", "jit-freeze", "jit-optimize")
# How the pruned weights are stored: as dense tensors, as CSR tensors with torch's int64 indices
# or with int32 ones, or as the CSR parts in plain tensors (int32 row pointers, int16 columns).
WEIGHT_FORMS = ("dense", "csr", "csr32", "csr-parts-i16")
SPARSITY = 0.95
TIMED_INPUT_SEED = 11


def model_a():
    from peer_torch import model_a as build  # the training peer's definition, shared
    return build()


def blas_in_use():
    from peer_torch import blas_in_use as probe
    return probe()


def pruned_model_a(sparsity):
    """Model A, PyTorch default init (seed 7), eval mode; with sparsity > 0 each weight matrix
    pruned to that sparsity by per-layer L1 magnitude, the way a PyTorch user prunes
    (prune.l1_unstructured, then prune.remove to make the zeros permanent)."""
    import torch.nn.utils.prune as prune
    torch.manual_seed(INFER_SEED)
    model = model_a().eval()
    if sparsity > 0:
        for m in model:
            if isinstance(m, nn.Linear):
                prune.l1_unstructured(m, "weight", amount=sparsity)
                prune.remove(m, "weight")
    return model


class CsrLinear(nn.Module):
    """nn.Linear with its weight as a CSR tensor: y = (W_csr @ x^T)^T + b via torch.sparse.addmm."""

    def __init__(self, linear):
        super().__init__()
        self.weight = linear.weight.detach().to_sparse_csr()
        self.bias = linear.bias.detach()[:, None].contiguous()

    def forward(self, x):
        return torch.sparse.addmm(self.bias, self.weight, x.t()).t()


class Standardize(nn.Module):
    """x' = (x - mean) / std in one elementwise op: shift + scale * x."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("shift", torch.tensor(-mean / std, dtype=torch.float32))
        self.scale = 1.0 / std

    def forward(self, x):
        return torch.add(self.shift, x, alpha=self.scale)


def to_csr(model):
    """Every nn.Linear of a Sequential as CsrLinear (convolutions stay dense: torch 1.13 has no
    sparse convolution on the CPU)."""
    return nn.Sequential(*[CsrLinear(m) if isinstance(m, nn.Linear) else m for m in model]).eval()


def weight_nonzeros(model):
    return sum(int((m.weight != 0).sum()) for m in model if isinstance(m, nn.Linear))


def model_from_export(path):
    """The model of a Sculpt export as an nn.Sequential in eval mode, with exactly its weights,
    and (params, nonzeros) counted over its tensors as Sculpt counts them (weights and biases).

    The export's input standardisation (x - mean) / std is part of the model on both sides.
    When only a flatten comes before the first Linear layer it is folded into that layer
    (W' = W / std, b' = b - (mean / std) W 1: exact up to rounding, the zeros stay zeros), so
    the peer spends nothing on it while Sculpt runs a pass over the input; otherwise (a
    convolution first, whose zero padding rules out folding) it is one elementwise op."""
    from sculpt_export import read_export
    header, tensors = read_export(path)
    params = sum(int(t.size) for t in tensors.values())
    nonzeros = sum(int(np.count_nonzero(t)) for t in tensors.values())
    norm = header.get("normalize") or {"mean": 0.0, "std": 1.0}
    mean, std = float(norm["mean"]), float(norm["std"])
    pending = (mean, std) if (mean, std) != (0.0, 1.0) else None
    mods = []

    def param(name):
        return torch.from_numpy(np.ascontiguousarray(tensors[name]))

    for layer in header["layers"]:
        kind, name, args = layer["type"], layer["name"], layer.get("args", {})
        if kind == "dropout":  # the identity at inference
            continue
        if kind == "flatten":
            mods.append(nn.Flatten())
            continue
        if pending is not None and kind != "linear":
            mods.append(Standardize(*pending))
            pending = None
        if kind == "linear":
            w = param(name + ".weight")
            has_bias = name + ".bias" in tensors
            m = nn.Linear(w.shape[1], w.shape[0], bias=has_bias)
            b = param(name + ".bias") if has_bias else torch.zeros(w.shape[0])
            if pending is not None:
                pmean, pstd = pending
                b = b - (pmean / pstd) * w.double().sum(1).float()
                w = w / pstd
                pending = None
                if not has_bias:
                    m = nn.Linear(w.shape[1], w.shape[0], bias=True)
            with torch.no_grad():
                m.weight.copy_(w)
                if m.bias is not None:
                    m.bias.copy_(b)
            mods.append(m)
        elif kind == "conv2d":
            w = param(name + ".weight")
            has_bias = name + ".bias" in tensors
            m = nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], stride=int(args.get("stride", 1)),
                          padding=int(args.get("padding", 0)), bias=has_bias)
            with torch.no_grad():
                m.weight.copy_(w)
                if has_bias:
                    m.bias.copy_(param(name + ".bias"))
            mods.append(m)
        elif kind in ("maxpool2d", "avgpool2d"):
            k = int(args["kernel"])
            s = int(args.get("stride", 0)) or k
            p = int(args.get("padding", 0))
            mods.append(nn.MaxPool2d(k, s, p) if kind == "maxpool2d" else
                        nn.AvgPool2d(k, s, p, count_include_pad=True))
        elif kind == "relu":
            mods.append(nn.ReLU())
        elif kind == "tanh":
            mods.append(nn.Tanh())
        elif kind == "sigmoid":
            mods.append(nn.Sigmoid())
        else:
            sys.exit(f"{path}: layer type {kind!r} is not supported by the peer")
    if pending is not None:  # no layer to fold it into
        mods.insert(0, Standardize(*pending))
    model = nn.Sequential(*mods).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, header, params, nonzeros


def test_set(data_dir, shape):
    """The Fashion-MNIST test images scaled to [0, 1] (the export's `idx` units) as
    [N, *shape], and their labels."""
    from peer_torch import read_idx
    images = read_idx(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(images.astype(np.float32) / np.float32(255.0))
    return x.reshape(-1, *shape).contiguous(), torch.from_numpy(labels.astype(np.int64))


def test_accuracy(model, x, y):
    with torch.no_grad():
        right = sum(int((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum())
                    for i in range(0, x.shape[0], 1000))
    return right / x.shape[0]


def run_infer(args):
    """Workload D: the time of one forward pass of model A (dense or 95% pruned) or of a trained
    export on a batch."""
    if args.case in LSTM_CASES:
        return run_lstm_step(args)
    batch = 1 if args.case.endswith("-b1") else 256
    trained = args.case in TRAINED_CASES
    sparse = trained or args.case.startswith("infer-sparse95")
    if args.weights not in ("dense", "csr"):
        sys.exit(f"{args.case}: --weights {args.weights} is for the export-size cases")
    if args.weights == "csr" and not sparse:
        sys.exit(f"{args.case}: --weights csr needs a pruned model")
    extra = {}
    if trained:
        if not args.model:
            sys.exit(f"{args.case}: needs --model (a `sculpt export` file)")
        model, header, params, nonzeros = model_from_export(args.model)
        # The timed batch: the first B test images, as on the Sculpt side.
        test_x, test_y = test_set(args.data_dir, header["input"])
        x = test_x[:batch].clone()
        extra = {"model": args.model, "test_acc": test_accuracy(model, test_x, test_y),
                 "test_samples": int(test_x.shape[0])}
    else:
        model = pruned_model_a(SPARSITY if sparse else 0.0)
        nonzeros = weight_nonzeros(model)
        params = sum(p.numel() for p in model.parameters())
        torch.manual_seed(TIMED_INPUT_SEED)
        x = torch.rand(batch, 1, 28, 28)
    with torch.no_grad():
        reference = model(x)
    if args.weights == "csr":
        model = to_csr(model)
    if args.mode == "jit-freeze":
        with torch.no_grad():
            model = torch.jit.freeze(torch.jit.trace(model, x))
        context = torch.no_grad
    elif args.mode == "jit-optimize":
        # Frozen, then rewritten for the CPU: convolutions on oneDNN (MKLDNN) tensors, Linear
        # layers as a matmul with the weight transposed once.
        with torch.no_grad():
            model = torch.jit.optimize_for_inference(torch.jit.trace(model, x))
        context = torch.no_grad
    else:
        context = torch.inference_mode if args.mode == "inference" else torch.no_grad

    def run_for(seconds):
        """model(x) in groups of 8 until `seconds` have passed: (us per call, calls)."""
        calls, t0 = 0, time.perf_counter()
        while True:
            for _ in range(8):
                y = model(x)
            calls += 8
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                return elapsed / calls * 1e6, calls, y

    with context():
        run_for(0.3)  # warm-up: allocator, OpenMP pool, BLAS buffers, JIT profiling runs
        runs = [run_for(0.5) for _ in range(args.reps)]
    us = [u for u, _, _ in runs]
    err = float((runs[-1][2] - reference).abs().max())
    # Trained logits reach ~20: the same sums in another order differ by a few ulps of that.
    tolerance = 1e-4 * max(1.0, float(reference.abs().max())) if trained else 1e-4
    med = statistics.median(us)
    result = {
        "case": args.case, "unit": "samples/s", "samples_per_s": batch * 1e6 / med,
        "us_per_batch": med, "reps_us": [round(u, 3) for u in us],
        "calls": [n for _, n, _ in runs], "batch": batch, "threads": args.threads,
        "params": params, "nonzeros": nonzeros, "mode": args.mode, "weights": args.weights,
        "max_abs_err": err, "torch": torch.__version__, "blas": blas_in_use(), **extra,
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        acc = f"; test accuracy {100 * extra['test_acc']:.2f}%" if trained else ""
        print(f"{args.case}: {result['samples_per_s']:.0f} samples/s, {med:.1f} us per batch of "
              f"{batch} (median of {args.reps}; mode {args.mode}; weights {args.weights}; "
              f"threads {args.threads}{acc})")
    if not all(np.isfinite(us)) or err > tolerance:
        sys.exit(1)


def csr_parts(w, index_dtype):
    c = w.to_sparse_csr()
    return c.crow_indices().to(index_dtype), c.col_indices().to(index_dtype), c.values()


def stored_state(state, form):
    """The state dict as a user would store it in `form` (WEIGHT_FORMS); the matrices are the
    2-D tensors, biases stay dense."""
    out = {}
    for k, v in state.items():
        if v.dim() != 2 or form == "dense":
            out[k] = v
        elif form == "csr":
            out[k] = v.to_sparse_csr()
        elif form == "csr32":
            crow, col, vals = csr_parts(v, torch.int32)
            out[k] = torch.sparse_csr_tensor(crow, col, vals, size=v.shape)
        else:  # csr-parts-i16: the layout of Sculpt's CSR encoding, in plain tensors
            if v.shape[1] > 32767:
                sys.exit(f"{k}: {v.shape[1]} columns do not fit int16 indices")
            crow, col, vals = csr_parts(v, torch.int32)
            out[k + ".crow_indices"] = crow
            out[k + ".col_indices"] = col.to(torch.int16)
            out[k + ".values"] = vals
    return out


def restored_state(back, form, shapes):
    """The dense state dict back from what stored_state wrote (to check the round trip)."""
    if form != "csr-parts-i16":
        return {k: (v.to_dense() if v.layout != torch.strided else v) for k, v in back.items()}
    out = {}
    for k, shape in shapes.items():
        if k in back:
            out[k] = back[k]
        else:
            out[k] = torch.sparse_csr_tensor(back[k + ".crow_indices"].long(),
                                             back[k + ".col_indices"].long(),
                                             back[k + ".values"], size=shape).to_dense()
    return out


def run_size(args):
    """The bytes of torch.save of the state dict of model A pruned to 95% (export-size-95-fp16:
    its values in half precision), stored in the form --weights picks."""
    form = args.weights
    fp16 = args.case.endswith("-fp16")
    model = pruned_model_a(SPARSITY)
    state = model.state_dict()
    if fp16:
        state = {k: v.half() for k, v in state.items()}
    stored = stored_state(state, form)
    buf = io.BytesIO()
    torch.save(stored, buf, _use_new_zipfile_serialization=not args.legacy_format)
    nbytes = len(buf.getvalue())
    buf.seek(0)
    back = restored_state(torch.load(buf), form, {k: v.shape for k, v in state.items()})
    ok = back.keys() == state.keys() and all(torch.equal(back[k], v) for k, v in state.items())
    result = {"case": args.case, "unit": "bytes", "bytes": nbytes, "weights": form,
              "dtype": "float16" if fp16 else "float32",
              "serialization": "legacy" if args.legacy_format else "zip",
              "nonzeros": weight_nonzeros(model), "params": sum(v.numel() for v in
                                                                model.state_dict().values()),
              "torch": torch.__version__}
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {nbytes} bytes (torch.save of the state_dict, weights {form}, "
              f"{result['dtype']}, {result['serialization']} serialization)")
    if not ok:
        sys.exit(1)
