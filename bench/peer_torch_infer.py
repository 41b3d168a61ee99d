#!/usr/bin/python3
# The inference half of the PyTorch peer (bench/peer_torch.py runs it): workload D of PEERS.md,
# one forward pass of model A dense or pruned to 95% per layer, and the size of the pruned
# model as torch.save writes it. See docs/benchmarks.md, "Inference".
import io
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

INFER_CASES = ("infer-mlp-b1", "infer-mlp-b256", "infer-sparse95-b1", "infer-sparse95-b256")
SIZE_CASES = ("export-size-95",)
INFER_MODES = ("inference", "no-grad", "jit-freeze")
SPARSITY = 0.95
INFER_SEED = 7  # the seed `sculpt bench` initialises model A with (values differ, shapes do not)


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


def to_csr(model):
    return nn.Sequential(*[CsrLinear(m) if isinstance(m, nn.Linear) else m for m in model]).eval()


def weight_nonzeros(model):
    return sum(int((m.weight != 0).sum()) for m in model if isinstance(m, nn.Linear))


def run_infer(args):
    """Workload D: the time of one forward pass of model A (dense or 95% pruned) on a batch."""
    batch = 1 if args.case.endswith("-b1") else 256
    sparse = args.case.startswith("infer-sparse95")
    if args.weights == "csr" and not sparse:
        sys.exit(f"{args.case}: --weights csr needs a pruned model (infer-sparse95-*)")
    model = pruned_model_a(SPARSITY if sparse else 0.0)
    nonzeros = weight_nonzeros(model)
    params = sum(p.numel() for p in model.parameters())
    torch.manual_seed(11)
    x = torch.rand(batch, 1, 28, 28)
    with torch.no_grad():
        reference = model(x)
    if args.weights == "csr":
        model = to_csr(model)
    if args.mode == "jit-freeze":
        with torch.no_grad():
            model = torch.jit.freeze(torch.jit.trace(model, x))
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
    med = statistics.median(us)
    result = {
        "case": args.case, "unit": "samples/s", "samples_per_s": batch * 1e6 / med,
        "us_per_batch": med, "reps_us": [round(u, 3) for u in us],
        "calls": [n for _, n, _ in runs], "batch": batch, "threads": args.threads,
        "params": params, "nonzeros": nonzeros, "mode": args.mode, "weights": args.weights,
        "max_abs_err": err, "torch": torch.__version__, "blas": blas_in_use(),
    }
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {result['samples_per_s']:.0f} samples/s, {med:.1f} us per batch of "
              f"{batch} (median of {args.reps}; mode {args.mode}; weights {args.weights}; "
              f"threads {args.threads})")
    if not all(np.isfinite(us)) or err > 1e-4:
        sys.exit(1)


def run_size(args):
    """The bytes of torch.save(model.state_dict()) of model A pruned to 95%."""
    model = pruned_model_a(SPARSITY)
    state = model.state_dict()
    if args.weights == "csr":
        state = {k: (v.to_sparse_csr() if v.dim() == 2 else v) for k, v in state.items()}
    buf = io.BytesIO()
    torch.save(state, buf)
    nbytes = len(buf.getvalue())
    buf.seek(0)
    back = torch.load(buf)
    ok = all(torch.equal(back[k].to_dense() if back[k].layout != torch.strided else back[k],
                         v.to_dense() if v.layout != torch.strided else v)
             for k, v in state.items())
    result = {"case": args.case, "unit": "bytes", "bytes": nbytes, "weights": args.weights,
              "nonzeros": weight_nonzeros(model), "params": sum(v.numel() for v in
                                                                model.state_dict().values()),
              "torch": torch.__version__}
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {nbytes} bytes (torch.save of the state_dict, weights "
              f"{args.weights})")
    if not ok:
        sys.exit(1)
