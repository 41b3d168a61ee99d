#!/usr/bin/python3
"""PyTorch peer of Sculpt's pruning results (docs/pruning.md): the same recipe, trained and pruned
with PyTorch, so that every Sculpt figure has a like-for-like PyTorch figure beside it.

Usage: /usr/bin/python3 bench/prune_peer_torch.py --recipe recipes/prune-gradual.toml
           [--set table.key=value ...] [--methods dense,gradual,oneshot] [--finetune 2]
           [--sparsities 0.9,0.95,0.98] [--seeds 42,43,44] [--threads 1]
           [--out FILE] [--trace-dir DIR]

The peer reads the Sculpt recipe itself (with the same --set overrides Sculpt gets) and mirrors
every setting it can; a setting it cannot mirror stops it with an error, so a recipe change
never silently makes the two sides differ. Mirrored (the Sculpt source in brackets):
  data      Fashion-MNIST; a seeded random data.val_fraction of the training images held out
            for validation (not the same images as Sculpt's split: a different generator);
            pixels /255 standardized by ONE scalar mean/std of the training split
            (data.normalize = "standard"); data.limit_train / limit_test honoured.
  model     MLP 784-300-100-10, ReLU, PyTorch's default initialisation.
  optim     torch.optim.SGD with optim.lr, momentum, nesterov, weight_decay (coupled L2, as
            optim.decay_style = "l2"), dampening 0 [src/optim/sgd.cpp].
  schedule  the learning rate of every step set by hand from Sculpt's closed form
            [src/sched/registry.cpp, curves.cpp]: linear warmup from warmup_start * lr over
            schedule.warmup units, then cosine to min_lr over the rest of the run; the unit is
            the epoch, the step or (unit = "run") the whole run; update = "step".
  clip      torch.nn.utils.clip_grad_norm_(all parameters, clip.max_norm) (eps 1e-6, as
            Sculpt's global-norm), after the masked gradients and before the step.
  batches   train.batch_size, the training split reshuffled every epoch, the last batch partial.

Methods, per seed (torch.manual_seed(seed), deterministic algorithms; E = train.epochs):
  dense     E epochs of the recipe, no pruning.
  gradual   E epochs of the recipe with Zhu & Gupta's gradual pruning as Sculpt's
            [src/prune/pruner.cpp]: torch.nn.utils.prune.global_unstructured (L1Unstructured)
            over the three Linear weights (biases kept) after the optimizer step whose number k
            (1-based) satisfies t0 <= k <= t1 and ((k - t0) % prune.every == 0 or k == t1), to
            round(s_k * 266,200) weights, s_k = s_f + (s_i - s_f) (1 - (k - t0) / (t1 - t0))^3;
            t0 / t1 = round(prune.start / prune.end * steps of the unit). The reparametrised
            weights are multiplied by their mask after every optimizer step (the forward uses
            weight_orig * mask), so a pruned weight stays 0.
  oneshot   E - F epochs of the recipe (F = --finetune), then per sparsity s: a copy pruned by
            global_unstructured (L1Unstructured, round(s * 266,200) weights) and fine-tuned for F
            epochs as `sculpt prune --sparsity s --finetune-epochs F` does
            [src/cli/cmd_prune.cpp, finetune_recipe]: the recipe's optimizer (fresh state) and
            clipping at optim.lr / 10, cosine from that rate to 0 over the F epochs, no warmup.
            Also records the dense model itself ("dense-short", E - F epochs).

Output: one JSON object per run (--out, default stdout): peer, method, seed, target (requested
sparsity), epochs (in all, dense phase included), test_acc / val_acc (fraction correct),
sparsity (measured fraction of the 266,200 Linear weights that are 0), settings (what the run
used: optim, clip, batch, steps, t0/t1/every), trace (file name in --trace-dir). With
--trace-dir, every run also writes <trace> = {"lr": [rate of every step], "prune": [[step,
pruned weights], ...], "candidates": 266200}: bench/prune_quality compares those with Sculpt's
runs and refuses results that differ. Summary (mean +- sample std over seeds) on stderr.
"""

import argparse
import copy
import json
import math
import os
import statistics
import sys
import time
import tomllib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.prune as prune

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peer_torch import blas_in_use, model_a, read_idx  # noqa: E402  (the same MLP, IDX reader)

# What the peer can mirror: per table, the keys it reads. Anything else in the recipe is an error.
MIRRORED = {
    "data": {"source", "path", "val_fraction", "normalize", "limit_train", "limit_test"},
    "model": {"name"},
    "optim": {"name", "lr", "momentum", "nesterov", "weight_decay", "dampening", "decay_style"},
    "schedule": {"name", "unit", "update", "warmup", "warmup_start", "min_lr", "total"},
    "clip": {"name", "max_norm"},
    "prune": {"when", "criterion", "granularity", "scope", "sparsity", "initial_sparsity",
              "start", "end", "every", "ramp", "unit", "biases", "exclude"},
    "train": {"epochs", "batch_size", "seed", "threads", "accumulate"},
    "output": None,  # any key: where and how Sculpt writes, not what it computes
}


def fail(msg):
    sys.exit("prune_peer_torch: " + msg)


def parse_value(text):
    """A --set value as Sculpt reads it: a TOML value, or else a bare string."""
    try:
        return tomllib.loads("v = " + text)["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_recipe(path, sets):
    with open(path, "rb") as f:
        r = tomllib.load(f)
    for s in sets:
        key, eq, value = s.partition("=")
        table, dot, name = key.partition(".")
        if not eq or not dot:
            fail("--set %r: expected table.key=value" % s)
        r.setdefault(table, {})[name] = parse_value(value)
    for table, keys in r.items():
        if table not in MIRRORED:
            fail("the recipe's [%s] table is not mirrored by the peer" % table)
        if MIRRORED[table] is None:
            continue
        extra = set(keys) - MIRRORED[table] if isinstance(keys, dict) else {"(not a table)"}
        if extra:
            fail("the peer does not mirror %s" % ", ".join("%s.%s" % (table, k) for k in sorted(extra)))
    want = [("data", "source", "fashion-mnist"), ("model", "name", "mlp"), ("optim", "name", "sgd"),
            ("optim", "dampening", 0), ("optim", "decay_style", "l2"), ("schedule", "update", "step"),
            ("train", "accumulate", 1), ("data", "normalize", "standard")]
    for table, key, value in want:
        got = r.get(table, {}).get(key, value)
        if got != value:
            fail("%s.%s = %r: the peer only mirrors %r" % (table, key, got, value))
    if r.get("schedule", {}).get("name", "constant") not in ("cosine",):
        fail("schedule.name = %r: the peer mirrors cosine only" % r["schedule"].get("name"))
    if r.get("schedule", {}).get("total", 0) != 0:
        fail("schedule.total: the peer mirrors a cosine over the rest of the run only")
    if r.get("clip", {}).get("name", "none") not in ("none", "global-norm"):
        fail("clip.name = %r: the peer mirrors global-norm (or none)" % r["clip"]["name"])
    p = r.get("prune", {})
    for key, value in (("criterion", "magnitude"), ("granularity", "unstructured"),
                       ("scope", "global"), ("ramp", "cubic"), ("biases", False), ("exclude", "")):
        if p.get(key, value) != value:
            fail("prune.%s = %r: the peer mirrors %r only" % (key, p[key], value))
    return r


def with_sets(recipe, **tables):
    """A copy of the recipe with {table: {key: value}} merged in."""
    r = copy.deepcopy(recipe)
    for table, kv in tables.items():
        r.setdefault(table, {}).update(kv)
    return r


# ---------------------------------------------------------------------------------------------
# Sculpt's clocks, step by step


def llround(x):
    return math.floor(x + 0.5) if x >= 0 else -math.floor(-x + 0.5)


def steps_of_unit(unit, steps_per_epoch, total_steps, key):
    if unit == "epoch":
        return steps_per_epoch
    if unit == "step":
        return 1
    if unit == "run":
        return total_steps
    fail("%s = %r: the peer mirrors epoch, step and run" % (key, unit))


def lr_schedule(recipe, steps_per_epoch, total_steps):
    """The rate of every step (0-based) of the run, as Sculpt's warmup + cosine computes it."""
    lr = float(recipe["optim"]["lr"])
    s = recipe.get("schedule", {})
    per_unit = steps_of_unit(s.get("unit", "epoch"), steps_per_epoch, total_steps, "schedule.unit")
    run_units = total_steps / per_unit
    warmup, start = float(s.get("warmup", 0.0)), float(s.get("warmup_start", 0.0))
    low = float(s.get("min_lr", 0.0))
    if warmup >= run_units:
        fail("schedule.warmup = %g is not shorter than the run" % warmup)
    length = run_units - warmup
    out = []
    for k in range(total_steps):
        t = k // per_unit if k % per_unit == 0 else k / per_unit
        if warmup > 0 and t < warmup:
            out.append(lr * (start + (1.0 - start) * min(t, warmup) / warmup))
        else:
            x = min(t - warmup, length) / length
            out.append(low + (lr - low) * (1.0 + math.cos(math.pi * x)) / 2.0)
    return out


class Ramp:
    """Sculpt's gradual clock (src/prune/pruner.cpp): due steps and targets."""

    def __init__(self, recipe, steps_per_epoch, total_steps):
        p = recipe["prune"]
        per_unit = steps_of_unit(p.get("unit", "epoch"), steps_per_epoch, total_steps, "prune.unit")
        self.t0 = llround(float(p.get("start", 0.0)) * per_unit)
        end = float(p.get("end", 0.0))
        self.t1 = llround(end * per_unit) if end > 0 else llround(total_steps * 2.0 / 3.0)
        self.every = int(p.get("every", 50))
        self.si, self.sf = float(p.get("initial_sparsity", 0.0)), float(p["sparsity"])
        if not (0 <= self.t0 < self.t1 <= total_steps):
            fail("the ramp from step %d to step %d does not fit in the run's %d steps"
                 % (self.t0, self.t1, total_steps))

    def due(self, k):
        return self.t0 <= k <= self.t1 and ((k - self.t0) % self.every == 0 or k == self.t1)

    def target(self, k):
        if k < self.t0:
            return 0.0
        x = min(max((k - self.t0) / (self.t1 - self.t0), 0.0), 1.0)
        return self.sf + (self.si - self.sf) * (1.0 - x) ** 3


# ---------------------------------------------------------------------------------------------
# Data, model, training


def load(recipe, seed):
    """(train, val, test) as (x float32 [n,784] standardized, y int64) pairs."""
    d = recipe.get("data", {})
    data_dir = d.get("path", "/usr/share/datasets/fashion-mnist")

    def part(stem, limit):
        x = read_idx(os.path.join(data_dir, f"{stem}-images-idx3-ubyte.gz"))
        y = read_idx(os.path.join(data_dir, f"{stem}-labels-idx1-ubyte.gz"))
        if limit > 0:
            x, y = x[:limit], y[:limit]
        return (torch.from_numpy(x.reshape(len(x), -1).astype(np.float32) / 255.0),
                torch.from_numpy(y.astype(np.int64)))
    x, y = part("train", int(d.get("limit_train", 0)))
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    k = round(float(d.get("val_fraction", 0.0)) * len(x))
    val_idx, tr_idx = perm[:k].sort().values, perm[k:].sort().values
    train, val = (x[tr_idx], y[tr_idx]), (x[val_idx], y[val_idx])
    test = part("t10k", int(d.get("limit_test", 0)))
    mean, std = train[0].double().mean().item(), train[0].double().std(unbiased=False).item()
    return [(((t[0] - mean) / std).contiguous(), t[1]) for t in (train, val, test)]


def accuracy(model, data):
    if len(data[1]) == 0:
        return None
    model.eval()
    with torch.no_grad():
        correct = sum((model(xb).argmax(1) == yb).sum().item()
                      for xb, yb in zip(data[0].split(1000), data[1].split(1000)))
    model.train()
    return correct / len(data[1])


def linears(model):
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def candidates(model):
    return sum(m.weight.numel() for m in linears(model))


def pruned_count(model):
    return sum(int((m.weight_mask == 0).sum()) if hasattr(m, "weight_mask") else 0
               for m in linears(model))


def prune_to(model, count):
    """Global L1 unstructured pruning of the Linear weights until `count` of them are pruned
    (masks only grow: the amount is taken from the weights still live)."""
    more = count - pruned_count(model)
    if more <= 0:
        return
    params = [(m, "weight") for m in linears(model)]
    # score the current weights (module.weight is refreshed only by the next forward)
    scores = {(m, "weight"): (m.weight_orig * m.weight_mask if hasattr(m, "weight_mask")
                              else m.weight).detach() for m in linears(model)}
    prune.global_unstructured(params, pruning_method=prune.L1Unstructured,
                              importance_scores=scores, amount=more)


def apply_masks(model):
    with torch.no_grad():
        for m in linears(model):
            if hasattr(m, "weight_mask"):
                m.weight_orig.mul_(m.weight_mask)


def settings(recipe, spe, total, ramp=None):
    o, c = recipe["optim"], recipe.get("clip", {})
    out = {"optim": {"name": "sgd", "lr": float(o["lr"]), "momentum": float(o.get("momentum", 0.0)),
                     "nesterov": bool(o.get("nesterov", False)),
                     "weight_decay": float(o.get("weight_decay", 0.0))},
           "clip": {"name": c.get("name", "none"), "max_norm": c.get("max_norm")},
           "batch_size": int(recipe["train"]["batch_size"]), "epochs": int(recipe["train"]["epochs"]),
           "steps_per_epoch": spe, "steps": total}
    if ramp:
        out["ramp"] = {"t0": ramp.t0, "t1": ramp.t1, "every": ramp.every, "sparsity": ramp.sf}
    return out


def train(model, tr, recipe, gen, gradual=False):
    """Trains `model` as Sculpt's trainer would with `recipe` (pruning gradually when asked);
    returns (settings, trace)."""
    batch, epochs = int(recipe["train"]["batch_size"]), int(recipe["train"]["epochs"])
    spe = math.ceil(len(tr[1]) / batch)
    total = spe * epochs
    ramp = Ramp(recipe, spe, total) if gradual else None
    lrs = lr_schedule(recipe, spe, total)
    o, c = recipe["optim"], recipe.get("clip", {})
    opt = torch.optim.SGD(model.parameters(), lr=float(o["lr"]),
                          momentum=float(o.get("momentum", 0.0)),
                          nesterov=bool(o.get("nesterov", False)),
                          weight_decay=float(o.get("weight_decay", 0.0)))
    max_norm = float(c["max_norm"]) if c.get("name", "none") == "global-norm" else None
    loss_fn = nn.CrossEntropyLoss()
    n = candidates(model)
    events, x, y, k = [], tr[0], tr[1], 0
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch):
            for g in opt.param_groups:
                g["lr"] = lrs[k]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            if max_norm is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            opt.step()
            k += 1
            apply_masks(model)
            if ramp and ramp.due(k):
                prune_to(model, llround(ramp.target(k) * n))
                apply_masks(model)
                events.append([k, pruned_count(model)])
    assert k == total, (k, total)
    return settings(recipe, spe, total, ramp), {"lr": lrs, "prune": events, "candidates": n}


def finish(model):
    """Makes the pruning permanent; returns the measured sparsity of the Linear weights."""
    for m in linears(model):
        if hasattr(m, "weight_mask"):
            prune.remove(m, "weight")
    w = torch.cat([m.weight.detach().reshape(-1) for m in linears(model)])
    return (w == 0).sum().item() / w.numel()


def run_seed(seed, recipe, args, emit):
    torch.manual_seed(seed)
    tr, val, test = load(recipe, seed)
    E, F = int(recipe["train"]["epochs"]), args.finetune
    base = {"peer": "torch", "seed": seed}

    def record(model, method, target, epochs, sets, trace, name, **extra):
        if args.trace_dir:
            with open(os.path.join(args.trace_dir, name), "w") as f:
                json.dump(trace, f)
        sparsity = finish(model)
        emit({**base, "torch": torch.__version__, "blas": blas_in_use(), "threads": args.threads,
              "method": method, "target": target, "epochs": epochs,
              "test_acc": accuracy(model, test), "val_acc": accuracy(model, val),
              "sparsity": sparsity, **extra, "settings": sets, "trace": name})

    if "dense" in args.methods:
        torch.manual_seed(seed)
        model = model_a()
        sets, trace = train(model, tr, recipe, torch.Generator().manual_seed(seed))
        record(model, "dense", 0.0, E, sets, trace, "dense-s%d.json" % seed)

    if "gradual" in args.methods:
        for s in args.sparsities:
            torch.manual_seed(seed)
            model = model_a()
            for m in linears(model):  # weight = weight_orig * mask from the start (mask of ones)
                prune.identity(m, "weight")
            r = with_sets(recipe, prune={"sparsity": s})
            if r["prune"].get("when") != "gradual":
                fail("gradual: the recipe's prune.when is %r" % r["prune"].get("when"))
            sets, trace = train(model, tr, r, torch.Generator().manual_seed(seed), gradual=True)
            record(model, "gradual", s, E, sets, trace, "gradual-%g-s%d.json" % (s, seed))

    if "oneshot" in args.methods:
        torch.manual_seed(seed)
        dense = model_a()
        sets, trace = train(dense, tr, with_sets(recipe, train={"epochs": E - F}),
                            torch.Generator().manual_seed(seed))
        ft = with_sets(recipe, train={"epochs": F},
                       schedule={"name": "cosine", "warmup": 0},
                       optim={"lr": float(recipe["optim"]["lr"]) / 10.0})
        for s in args.sparsities:
            model = copy.deepcopy(dense)
            n = candidates(model)
            prune_to(model, llround(s * n))
            apply_masks(model)
            before = accuracy(model, test)
            fsets, ftrace = train(model, tr, ft, torch.Generator().manual_seed(seed * 1000 + 1))
            ftrace["prune"] = [[0, pruned_count(model)]]
            record(model, "oneshot", s, E, {**fsets, "dense": sets}, ftrace,
                   "oneshot-%g-s%d.json" % (s, seed), test_acc_before_finetune=before)
        record(dense, "dense-short", 0.0, E - F, sets, trace, "dense%d-s%d.json" % (E - F, seed))


def summary(records):
    groups = {}
    for r in records:
        groups.setdefault((r["method"], r["target"], r["epochs"]), []).append(r)
    lines = [f"{'method':<12} {'target':>6} {'actual':>7} {'epochs':>6} {'seeds':>5}  "
             f"test acc (mean +- std)"]
    for (method, s, ep), rs in groups.items():
        acc = [r["test_acc"] for r in rs]
        sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
        act = statistics.mean(r["sparsity"] for r in rs)
        lines.append(f"{method:<12} {s:>6.2f} {act:>7.4f} {ep:>6} {len(rs):>5}  "
                     f"{100 * statistics.mean(acc):6.2f} +- {100 * sd:4.2f}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--recipe", required=True, help="the Sculpt recipe (TOML) to mirror")
    ap.add_argument("--set", action="append", default=[], dest="sets",
                    help="override a recipe value, as sculpt's --set (repeatable)")
    ap.add_argument("--methods", default="dense,gradual,oneshot")
    ap.add_argument("--finetune", type=int, default=2, help="oneshot: fine-tune epochs F")
    ap.add_argument("--sparsities", default="0.9,0.95,0.98")
    ap.add_argument("--seeds", default="42,43,44")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default="", help="JSONL file (default: stdout)")
    ap.add_argument("--trace-dir", default="", help="write each run's rates and mask updates here")
    args = ap.parse_args()
    args.methods = [m for m in args.methods.split(",") if m]
    for m in args.methods:
        if m not in ("dense", "gradual", "oneshot"):
            ap.error("unknown method %r" % m)
    args.sparsities = [float(s) for s in args.sparsities.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    recipe = load_recipe(args.recipe, args.sets)
    E = int(recipe["train"]["epochs"])
    if "oneshot" in args.methods and not 0 < args.finetune < E:
        ap.error("need 0 < --finetune < train.epochs (%d)" % E)
    if args.trace_dir:
        os.makedirs(args.trace_dir, exist_ok=True)

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    out = open(args.out, "w") if args.out else sys.stdout
    records, t0 = [], time.perf_counter()

    def emit(r):
        r = {k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()}
        records.append(r)
        print(json.dumps(r), file=out, flush=True)
        print(f"[{time.perf_counter() - t0:7.1f}s] seed {r['seed']} {r['method']} "
              f"s={r['target']}: test {r['test_acc']:.4f}", file=sys.stderr, flush=True)

    for seed in seeds:
        run_seed(seed, recipe, args, emit)
    if out is not sys.stdout:
        out.close()
    print(f"\nPyTorch {torch.__version__}, {args.threads} threads, {len(seeds)} seeds, "
          f"{time.perf_counter() - t0:.0f} s\n" + summary(records), file=sys.stderr)


if __name__ == "__main__":
    main()
