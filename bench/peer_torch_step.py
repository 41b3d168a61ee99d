#!/usr/bin/python3
# Workload E of the PyTorch peer (bench/peer_torch.py optim-adam, optim-sgd-nesterov,
# clip-global-norm): one optimizer step, or one clip_grad_norm_ call, over model A's parameters
# with fixed gradients, timed per call. See docs/benchmarks.md.
import json
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

OPTIM_CASES = ("optim-adam", "optim-sgd-nesterov")
CLIP_CASES = ("clip-global-norm",)


def model_a():
    from peer_torch import model_a as build  # imported late: peer_torch imports this module
    return build()


def model_a_params(seed):
    """Model A's parameters (the same shapes and order as Sculpt's ParamStore), each with a
    fixed gradient N(0, 0.01^2)."""
    torch.manual_seed(seed)
    params = []
    for p in model_a().parameters():
        q = nn.Parameter(p.detach().clone())
        q.grad = 0.01 * torch.randn_like(q)
        params.append(q)
    return params


def report(args, result, key):
    """Prints `result` as one JSON line (--json) or as text with its figure `key`."""
    if args.json:
        print(json.dumps(result), flush=True)
        return
    print(f"{args.case}: {result[key]:.1f} {result['unit']} (median of {args.reps}; "
          f"reps {result['reps']}; threads {args.threads}; foreach {bool(args.foreach)})")


def make_optimizer(case, params, foreach):
    """foreach None is what a user gets (in torch 1.13: the single-tensor loop on CPU)."""
    kw = {} if foreach is None else {"foreach": foreach}
    if case == "optim-adam":
        return torch.optim.Adam(params, lr=1e-3, **kw)
    return torch.optim.SGD(params, lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4, **kw)


def run_optim(args):
    """Workload E: the time of one opt.step() over model A's parameters, fixed gradients."""
    params = model_a_params(args.seed)
    opt = make_optimizer(args.case, params, True if args.foreach else None)

    def run_for(seconds):
        """opt.step() in batches of 16 until `seconds` have passed: (us per step, steps)."""
        steps, t0 = 0, time.perf_counter()
        while True:
            for _ in range(16):
                opt.step()
            steps += 16
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                return elapsed / steps * 1e6, steps

    run_for(0.3)  # warm-up: state allocation, allocator, OpenMP pool, caches
    runs = [run_for(0.5) for _ in range(args.reps)]
    us = [u for u, _ in runs]
    ok = all(bool(torch.isfinite(p).all()) for p in params)
    result = {
        "case": args.case, "unit": "us/step", "us_per_step": statistics.median(us),
        "reps": [round(u, 2) for u in us], "steps": [n for _, n in runs], "threads": args.threads,
        "params": sum(p.numel() for p in params), "foreach": bool(args.foreach),
        "torch": torch.__version__,
    }
    report(args, result, "us_per_step")
    if not ok or not all(np.isfinite(us)):
        sys.exit(1)


def clip_grad_norm_foreach(params, max_norm):
    """clip_grad_norm_ (L2) the way torch >= 2.0 does it with foreach=True on CPU."""
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch._foreach_norm(grads, 2.0)
    total = torch.linalg.vector_norm(torch.stack(norms), 2.0)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    torch._foreach_mul_(grads, coef.item())
    return total


def run_clip(args):
    """Workload E, clipping: the time of one clip_grad_norm_ call over model A's parameters."""
    params = model_a_params(args.seed)
    saved = [p.grad.clone() for p in params]
    clip = clip_grad_norm_foreach if args.foreach else torch.nn.utils.clip_grad_norm_

    def run_for(seconds):
        """Restore, then time one call, until `seconds` have passed: (us per call, calls)."""
        calls, timed, start = 0, 0.0, time.perf_counter()
        while True:
            for p, g in zip(params, saved):
                p.grad.copy_(g)
            t0 = time.perf_counter()
            norm = clip(params, 1.0)
            timed += time.perf_counter() - t0
            calls += 1
            if time.perf_counter() - start >= seconds:
                return timed / calls * 1e6, calls, float(norm)

    run_for(0.3)  # warm-up: allocator, OpenMP pool, caches
    runs = [run_for(0.5) for _ in range(args.reps)]
    us = [u for u, _, _ in runs]
    after = float(torch.cat([p.grad.reshape(-1) for p in params]).norm())
    result = {
        "case": args.case, "unit": "us/call", "us_per_call": statistics.median(us),
        "reps": [round(u, 2) for u in us], "calls": [n for _, n, _ in runs],
        "threads": args.threads, "params": sum(p.numel() for p in params),
        "norm_before": runs[-1][2], "norm_after": after, "foreach": bool(args.foreach),
        "torch": torch.__version__,
    }
    report(args, result, "us_per_call")
    if abs(after - 1.0) > 1e-4 or not all(np.isfinite(us)):
        sys.exit(1)
