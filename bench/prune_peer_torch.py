#!/usr/bin/python3
"""PyTorch pruning baseline for Sculpt's results table: one-shot global L1 magnitude pruning
plus a short fine-tune, at an equal epoch budget, on the Fashion-MNIST MLP 784-300-100-10 (ReLU).

Usage: /usr/bin/python3 bench/prune_peer_torch.py --epochs 20 --out /tmp/peer_prune.jsonl
       (--quick: a smoke test of seconds; --help lists the options)

Per seed (torch.manual_seed(seed); deterministic):
  data     Fashion-MNIST train (60,000) -> seeded random 10% held out as validation; pixels /255,
           then standardized with ONE scalar mean/std measured over all pixels of the remaining
           training split (as Sculpt's data.normalize = "standard"); test set = t10k (10,000).
  dense    E - F epochs (E = --epochs, F = --finetune): SGD lr 0.1, momentum 0.9, no Nesterov,
           weight decay 0, batch 128, CrossEntropyLoss, reshuffled each epoch; per-step schedule:
           1 epoch linear warmup from 0.1*lr to lr, then cosine to 0 over the other E-F-1 epochs.
  prune    per sparsity s: a copy of the dense model, torch.nn.utils.prune.global_unstructured
           (L1Unstructured, amount=s) over the three Linear weights (not biases); fine-tune F
           epochs with a fresh SGD, constant lr 0.01 (= 0.1 * lr), momentum 0.9, weight decay 0,
           mask fixed; prune.remove. Then the dense model also gets those F fine-tune epochs.

Output: one JSON object per line (--out, default stdout): "dense" (after E-F epochs),
"dense+finetune" (after E) and "one-shot-global-l1+finetune" (epochs = E; sparsity = requested
fraction of the 266,200 Linear weights zeroed, actual_sparsity = measured after prune.remove,
test_acc_before_finetune = right after pruning). test_acc / val_acc = fraction correct on the
10,000 test / 6,000 held-out images. Summary (mean +- sample std over seeds) on stderr.
"""

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import DATA_DIR, model_a, read_idx  # noqa: E402  (IDX reader, the same MLP)


def load(data_dir, seed, val_fraction, limit_train, limit_test):
    """(train, val, test) as (x float32 [n,784] standardized, y int64) pairs."""
    def part(stem, limit):
        x = read_idx(os.path.join(data_dir, f"{stem}-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, f"{stem}-labels-idx1-ubyte.gz"))
        if limit > 0:
            x, y = x[:limit], y[:limit]
        return (torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0),
                torch.from_numpy(y.astype(np.int64)))
    x, y = part("train", limit_train)
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    k = round(val_fraction * len(x))
    val_idx, tr_idx = perm[:k].sort().values, perm[k:].sort().values
    train, val, test = (x[tr_idx], y[tr_idx]), (x[val_idx], y[val_idx]), part("t10k", limit_test)
    mean, std = train[0].double().mean().item(), train[0].double().std(unbiased=False).item()
    return [(((d[0] - mean) / std).contiguous(), d[1]) for d in (train, val, test)]


def accuracy(model, data):
    model.eval()
    with torch.no_grad():
        correct = sum((model(xb).argmax(1) == yb).sum().item()
                      for xb, yb in zip(data[0].split(1000), data[1].split(1000)))
    model.train()
    return correct / len(data[1])


def train(model, data, epochs, batch, opt, sched, gen):
    loss_fn = nn.CrossEntropyLoss()
    x, y = data
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=gen)
        for idx in perm.split(batch):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
            if sched is not None:
                sched.step()


def warmup_cosine(steps_per_epoch, epochs):
    """Multiplier of lr per step: linear 0.1 -> 1 over epoch 1, then cosine 1 -> 0."""
    warm, total = steps_per_epoch, steps_per_epoch * epochs
    def f(step):
        if step < warm:
            return 0.1 + 0.9 * step / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))
    return f


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def finetune(model, data, args, seed):
    # constant fine-tune lr 0.1 * --lr (0.01 by default), fresh momentum buffers
    opt = torch.optim.SGD(model.parameters(), lr=0.1 * args.lr, momentum=args.momentum)
    train(model, data, args.finetune, args.batch, opt, None,
          torch.Generator().manual_seed(seed * 1000 + 1))


def run_seed(seed, args, emit):
    torch.manual_seed(seed)
    tr, val, test = load(args.data_dir, seed, 0.1, *args.limits)
    dense_epochs = args.epochs - args.finetune
    model = model_a()
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    steps = math.ceil(len(tr[1]) / args.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(steps, dense_epochs))
    train(model, tr, dense_epochs, args.batch, opt, sched, torch.Generator().manual_seed(seed))
    base = {"peer": "torch", "seed": seed}

    def dense(method, epochs):
        emit({**base, "method": method, "sparsity": 0.0, "actual_sparsity": 0.0,
              "test_acc": accuracy(model, test), "val_acc": accuracy(model, val), "epochs": epochs})
    dense("dense", dense_epochs)

    for s in args.sparsities:
        pm = copy.deepcopy(model)
        prune.global_unstructured([(m, "weight") for m in linears(pm)],
                                  pruning_method=prune.L1Unstructured, amount=s)
        pre = accuracy(pm, test)
        finetune(pm, tr, args, seed)
        for m in linears(pm):
            prune.remove(m, "weight")
        w = torch.cat([m.weight.reshape(-1) for m in linears(pm)])
        emit({**base, "method": "one-shot-global-l1+finetune", "sparsity": s,
              "actual_sparsity": (w == 0).sum().item() / w.numel(), "test_acc": accuracy(pm, test),
              "test_acc_before_finetune": pre, "val_acc": accuracy(pm, val), "epochs": args.epochs})

    finetune(model, tr, args, seed)
    dense("dense+finetune", args.epochs)


def summary(records):
    groups = {}  # first-seen order: dense, each sparsity, dense+finetune
    for r in records:
        groups.setdefault((r["method"], r["sparsity"], r["epochs"]), []).append(r)
    lines = [f"{'method':<29} {'sparsity':>8} {'actual':>7} {'epochs':>6} {'seeds':>5}  "
             f"test acc (mean +- std)   before ft"]
    for (method, s, ep), rs in groups.items():
        acc = [r["test_acc"] for r in rs]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        act = statistics.mean(r["actual_sparsity"] for r in rs)
        pre = [r["test_acc_before_finetune"] for r in rs if "test_acc_before_finetune" in r]
        lines.append(f"{method:<29} {s:>8.2f} {act:>7.4f} {ep:>6} {len(rs):>5}  "
                     f"{100 * statistics.mean(acc):6.2f} +- {100 * sd:4.2f}"
                     + (f"          {100 * statistics.mean(pre):6.2f}" if pre else ""))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--epochs", type=int, default=20, help="total epoch budget (dense + finetune)")
    ap.add_argument("--finetune", type=int, default=2, help="fine-tune epochs after pruning")
    ap.add_argument("--sparsities", default="0.9,0.95,0.98")
    ap.add_argument("--seeds", default="42,43,44")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--out", default="", help="JSONL file (default: stdout)")
    ap.add_argument("--data-dir", default=DATA_DIR)
    ap.add_argument("--quick", action="store_true", help="2 epochs (1+1), 1 seed, 6,000 images")
    args = ap.parse_args()
    args.sparsities = [float(s) for s in args.sparsities.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    args.limits = (6000, 2000) if args.quick else (0, 0)  # first N train / test images
    if args.quick:
        args.epochs, args.finetune, seeds = 2, 1, seeds[:1]
    if not 0 <= args.finetune < args.epochs:
        ap.error("need 0 <= --finetune < --epochs")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    out = open(args.out, "w") if args.out else sys.stdout
    records, t0 = [], time.perf_counter()

    def emit(r):
        r = {k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()}
        records.append(r)
        print(json.dumps(r), file=out, flush=True)
        print(f"[{time.perf_counter() - t0:7.1f}s] seed {r['seed']} {r['method']} "
              f"s={r['sparsity']}: test {r['test_acc']:.4f}", file=sys.stderr, flush=True)

    for seed in seeds:
        run_seed(seed, args, emit)
    if out is not sys.stdout:
        out.close()
    print(f"\nPyTorch {torch.__version__}, {args.threads} threads, {len(seeds)} seeds, "
          f"{time.perf_counter() - t0:.0f} s\n" + summary(records), file=sys.stderr)


if __name__ == "__main__":
    main()
