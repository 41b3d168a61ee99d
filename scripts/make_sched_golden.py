#!/usr/bin/python3
# Writes the PyTorch golden values for Sculpt's learning-rate schedules: tests/golden/sched_*.json,
# compared by tests/unit/sched/sched_golden_test.cpp.
# Run from anywhere with Debian's python3-torch (plain python3 has no torch):
#     /usr/bin/python3 scripts/make_sched_golden.py
# Separate from scripts/make_golden.py (which does not call it). Deterministic; takes a second.
"""Golden values for Sculpt's learning-rate schedules, from torch.optim.lr_scheduler (1.13).

Every expected value comes from a torch.optim.lr_scheduler object driving a dummy optimizer
(torch.optim.SGD over one tensor, with momentum where momentum is cycled; torch.optim.Adam where
one-cycle cycles beta1); nothing is computed here by formula. Families without a torch scheduler
(inverse-time) have no file: their tests are closed-form, in tests/unit/sched/.

Each file holds one case, on one line:

  {"kind":"schedule", "case":"<case>",
   "torch": the scheduler's constructor call as Python text (names from
            torch.optim.lr_scheduler; `opt` is the optimizer the recipe's [optim] describes),
   "toml": a complete Sculpt recipe ([optim], [schedule], [train]) describing the same schedule,
   "steps_per_epoch": S, "total_steps": N (the RunLength to build the schedule with),
   "lr": [N values], "momentum": [N values] (only when the schedule cycles momentum or beta1),
   "metrics": [N values] (reduce-on-plateau only)}

Non-plateau cases: "lr"[k] is the optimizer's param_groups[0]["lr"] read before the k-th
scheduler.step() ("momentum"[k] likewise: "momentum", or betas[0] for Adam), so it is the rate
Sculpt must give at step k.
  - unit = "step": one Sculpt step is one torch scheduler.step(); S only fixes how steps group
    into epochs (it must not matter).
  - unit = "epoch" with update = "epoch": torch is stepped once per epoch and each value is
    repeated S times (the rate is constant within an epoch).
  "total = 0" (the whole run) is written to torch as N (in the schedule's unit); a warmup of W
  in front of family X is SequentialLR([LinearLR(warmup_start, 1, W), X'], milestones=[W]),
  where X' has total N - W when the recipe says total = 0. Cosine annealing is recorded on
  [0, total] only (after total torch rises again while Sculpt holds min_lr), so N = total + 1
  there (or N = total with total = 0); one-cycle never runs past its total (torch refuses to).

Plateau cases ([schedule.plateau] on a constant rate, ReduceLROnPlateau): S = 1, N = E epochs;
"metrics"[e] is the scripted metric of epoch e and "lr"[e] the rate before
scheduler.step(metrics[e]), i.e. the rate Sculpt must give during epoch e after observing
metrics[0..e-1].

Values are Python floats written with repr() (17 significant digits, exact round trip).
"""

import json
import os
import sys
import warnings

import peer_deps  # noqa: F401  (installs torch and NumPy when missing)
import torch
from torch.optim import lr_scheduler as L

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
PREFIX = "sched_"


# ---------------------------------------------------------------------------------------------
# Recipe text

def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    raise TypeError(f"no TOML form for {v!r}")


def toml_table(header, items):
    lines = [header if header.startswith("[") else f"[{header}]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in items.items()]
    return "\n".join(lines) + "\n"


def recipe(optim, schedule, epochs, phases=None, plateau=None):
    """optim/schedule: {key: value} in order; phases: list of {key: value}; plateau: {...}."""
    text = toml_table("optim", optim) + "\n" + toml_table("schedule", schedule)
    for p in phases or []:
        text += "\n" + toml_table("[[schedule.phases]]", p)
    if plateau is not None:
        text += "\n" + toml_table("schedule.plateau", plateau)
    text += "\n" + toml_table("train", {"epochs": epochs})
    return text


# ---------------------------------------------------------------------------------------------
# Running torch

def make_optimizer(optim):
    """The dummy torch optimizer an [optim] table describes (lr, momentum / beta1)."""
    p = torch.zeros(1, requires_grad=True)
    if optim["name"] == "sgd":
        return torch.optim.SGD([p], lr=optim["lr"], momentum=optim.get("momentum", 0.0))
    if optim["name"] == "adam":
        return torch.optim.Adam([p], lr=optim["lr"], betas=(optim.get("beta1", 0.9), 0.999))
    raise ValueError(optim["name"])


def current(opt, what):
    g = opt.param_groups[0]
    if what == "lr":
        return float(g["lr"])
    if what == "momentum":
        return float(g["betas"][0]) if "betas" in g else float(g["momentum"])
    raise ValueError(what)


def run_torch(optim, torch_text, torch_steps, momentum):
    """Builds eval(torch_text) on a fresh optimizer; records lr (and momentum) before each of
    torch_steps scheduler.step() calls."""
    opt = make_optimizer(optim)
    sched = eval(torch_text, {name: getattr(L, name) for name in dir(L)}, {"opt": opt})
    lrs, moms = [], []
    for _ in range(torch_steps):
        lrs.append(current(opt, "lr"))
        if momentum:
            moms.append(current(opt, "momentum"))
        opt.step()  # no gradients: a no-op, but keeps torch's call-order check quiet
        sched.step()
    return lrs, moms


def run_plateau(optim, torch_text, metrics):
    opt = make_optimizer(optim)
    sched = eval(torch_text, {name: getattr(L, name) for name in dir(L)}, {"opt": opt})
    lrs = []
    for m in metrics:
        lrs.append(current(opt, "lr"))
        opt.step()
        sched.step(m)
    return lrs


def write(case, obj):
    path = os.path.join(OUT_DIR, PREFIX + case + ".json")
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


CASES = []


def case(name, optim, schedule, torch_text, total_steps, steps_per_epoch, momentum=False,
         phases=None):
    """A non-plateau case. schedule: the [schedule] keys; with unit = "epoch" it must also say
    update = "epoch", and torch then steps once per epoch."""
    assert total_steps % steps_per_epoch == 0, name
    per_epoch = schedule.get("unit", "epoch") == "epoch"
    if per_epoch:
        assert schedule.get("update") == "epoch", f"{name}: epoch-unit cases step torch per epoch"
    torch_steps = total_steps // steps_per_epoch if per_epoch else total_steps
    lrs, moms = run_torch(optim, torch_text, torch_steps, momentum)
    if per_epoch:
        lrs = [v for v in lrs for _ in range(steps_per_epoch)]
        moms = [v for v in moms for _ in range(steps_per_epoch)]
    obj = {"kind": "schedule", "case": name, "torch": torch_text,
           "toml": recipe(optim, schedule, total_steps // steps_per_epoch, phases=phases),
           "steps_per_epoch": steps_per_epoch, "total_steps": total_steps, "lr": lrs}
    if momentum:
        obj["momentum"] = moms
    CASES.append((name, obj))


def plateau_case(name, plateau, torch_text, metrics, lr=0.1):
    optim = {"name": "sgd", "lr": lr}
    lrs = run_plateau(optim, torch_text, metrics)
    # No metric may sit on an improvement threshold (where the last bit of best * (1 - th)
    # decides): torch must give the same rates when every metric moves by a relative 1e-9.
    gen = torch.Generator().manual_seed(len(metrics))
    for _ in range(20):
        u = (torch.rand(len(metrics), generator=gen, dtype=torch.float64) * 2 - 1).tolist()
        moved = [m * (1 + 1e-9 * x) for m, x in zip(metrics, u)]
        assert run_plateau(optim, torch_text, moved) == lrs, f"{name}: a metric is on a boundary"
    obj = {"kind": "schedule", "case": name, "torch": torch_text,
           "toml": recipe(optim, {"name": "constant"}, len(metrics), plateau=plateau),
           "steps_per_epoch": 1, "total_steps": len(metrics), "lr": lrs, "metrics": metrics}
    CASES.append((name, obj))


SGD = {"name": "sgd", "lr": 0.1}


def sgd(lr, momentum=None):
    o = {"name": "sgd", "lr": lr}
    if momentum is not None:
        o["momentum"] = momentum
    return o


# ---------------------------------------------------------------------------------------------
# The cases. Step-unit cases use a steps_per_epoch that must not matter (it groups N steps into
# the recipe's epochs); epoch-unit cases use S = 5.

def step_cases():
    case("step_s7_g05", SGD, {"name": "step", "unit": "step", "step_size": 7, "gamma": 0.5},
         "StepLR(opt, step_size=7, gamma=0.5)", 40, 8)
    case("step_s10_g01", sgd(0.05), {"name": "step", "unit": "step", "step_size": 10,
                                      "gamma": 0.1},
         "StepLR(opt, step_size=10, gamma=0.1)", 45, 9)
    case("step_epoch", SGD, {"name": "step", "unit": "epoch", "update": "epoch",
                             "step_size": 3, "gamma": 0.3},
         "StepLR(opt, step_size=3, gamma=0.3)", 50, 5)


def multistep_cases():
    case("multistep_a", sgd(0.2), {"name": "multistep", "unit": "step",
                                   "milestones": [10, 25, 30], "gamma": 0.1},
         "MultiStepLR(opt, milestones=[10, 25, 30], gamma=0.1)", 40, 10)
    case("multistep_adjacent", SGD, {"name": "multistep", "unit": "step",
                                     "milestones": [5, 6, 20], "gamma": 0.5},
         "MultiStepLR(opt, milestones=[5, 6, 20], gamma=0.5)", 30, 6)
    case("multistep_epoch", SGD, {"name": "multistep", "unit": "epoch", "update": "epoch",
                                  "milestones": [2, 5], "gamma": 0.2},
         "MultiStepLR(opt, milestones=[2, 5], gamma=0.2)", 40, 5)


def exponential_cases():
    case("exponential_095", SGD, {"name": "exponential", "unit": "step", "gamma": 0.95},
         "ExponentialLR(opt, gamma=0.95)", 60, 6)
    case("exponential_07", sgd(1.0), {"name": "exponential", "unit": "step", "gamma": 0.7},
         "ExponentialLR(opt, gamma=0.7)", 30, 5)


def polynomial_cases():
    # PolynomialLR's end rate is 0; after total_iters it holds 0.
    case("polynomial_linear", SGD, {"name": "polynomial", "unit": "step", "total": 20,
                                    "power": 1.0, "end_lr": 0.0},
         "PolynomialLR(opt, total_iters=20, power=1.0)", 30, 5)
    case("polynomial_p2_whole_run", sgd(0.4), {"name": "polynomial", "unit": "step",
                                                "total": 0, "power": 2.0, "end_lr": 0.0},
         "PolynomialLR(opt, total_iters=40, power=2.0)", 40, 8)
    case("polynomial_sqrt", SGD, {"name": "polynomial", "unit": "step", "total": 25,
                                  "power": 0.5, "end_lr": 0.0},
         "PolynomialLR(opt, total_iters=25, power=0.5)", 30, 10)


def cosine_cases():
    # Recorded on t in [0, total] only: N = total + 1 steps (total = 0: T_max = N).
    case("cosine_min0", SGD, {"name": "cosine", "unit": "step", "total": 50, "min_lr": 0.0},
         "CosineAnnealingLR(opt, T_max=50, eta_min=0.0)", 51, 17)
    case("cosine_min_lr", SGD, {"name": "cosine", "unit": "step", "total": 30, "min_lr": 0.001},
         "CosineAnnealingLR(opt, T_max=30, eta_min=0.001)", 31, 31)
    case("cosine_whole_run", sgd(0.05), {"name": "cosine", "unit": "step", "total": 0,
                                         "min_lr": 0.0005},
         "CosineAnnealingLR(opt, T_max=40, eta_min=0.0005)", 40, 8)
    case("cosine_epoch", SGD, {"name": "cosine", "unit": "epoch", "update": "epoch", "total": 8,
                               "min_lr": 0.002},
         "CosineAnnealingLR(opt, T_max=8, eta_min=0.002)", 45, 5)


def cosine_restarts_cases():
    case("cosine_restarts_mult1", SGD, {"name": "cosine-restarts", "unit": "step", "period": 10,
                                        "period_mult": 1, "min_lr": 0.0},
         "CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=1, eta_min=0.0)", 35, 7)
    case("cosine_restarts_mult2", SGD, {"name": "cosine-restarts", "unit": "step", "period": 5,
                                        "period_mult": 2, "min_lr": 0.01},
         "CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.01)", 50, 10)
    case("cosine_restarts_epoch", SGD, {"name": "cosine-restarts", "unit": "epoch",
                                        "update": "epoch", "period": 3, "period_mult": 2,
                                        "min_lr": 0.0},
         "CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=0.0)", 60, 5)


def cyclic_cases():
    # base_lr is the optimizer's lr. cycle_momentum is off unless momentum is recorded (torch's
    # default is on).
    def cyc(mode, up, down, gamma=1.0, momentum=None):
        s = {"name": "cyclic", "unit": "step", "max_lr": 0.1, "step_size_up": up,
             "step_size_down": down, "mode": mode, "gamma": gamma,
             "cycle_momentum": momentum is not None}
        t = (f"CyclicLR(opt, base_lr=0.01, max_lr=0.1, step_size_up={up}, "
             f"step_size_down={down if down else None}, mode='{mode}', gamma={gamma!r}, ")
        if momentum is None:
            t += "cycle_momentum=False)"
        else:
            s["base_momentum"], s["max_momentum"] = momentum
            t += (f"cycle_momentum=True, base_momentum={momentum[0]!r}, "
                  f"max_momentum={momentum[1]!r})")
        return s, t

    s, t = cyc("triangular", 5, 0)
    case("cyclic_triangular", sgd(0.01), s, t, 40, 8)
    s, t = cyc("triangular2", 4, 6)
    case("cyclic_triangular2", sgd(0.01), s, t, 50, 10)
    s, t = cyc("exp_range", 5, 0, gamma=0.97)
    case("cyclic_exp_range", sgd(0.01), s, t, 40, 5)
    s, t = cyc("triangular", 6, 4, momentum=(0.8, 0.95))
    case("cyclic_momentum", sgd(0.01, 0.9), s, t, 40, 4, momentum=True)
    s, t = cyc("exp_range", 3, 5, gamma=0.95, momentum=(0.85, 0.9))
    case("cyclic_exp_range_momentum", sgd(0.01, 0.9), s, t, 48, 8, momentum=True)


def one_cycle_cases():
    def oc(max_lr, total, pct, div, final, anneal, three, mom, unit="step"):
        s = {"name": "one-cycle", "unit": unit}
        if unit == "epoch":
            s["update"] = "epoch"
        s.update({"max_lr": max_lr[0], "total": total[0], "pct_start": pct, "div_factor": div,
                  "final_div_factor": final, "anneal": anneal, "three_phase": three,
                  "cycle_momentum": mom is not None})
        t = (f"OneCycleLR(opt, max_lr={max_lr[1]!r}, total_steps={total[1]}, pct_start={pct!r}, "
             f"anneal_strategy='{anneal}', div_factor={div!r}, final_div_factor={final!r}, "
             f"three_phase={three}, ")
        if mom is None:
            t += "cycle_momentum=False)"
        else:
            s["base_momentum"], s["max_momentum"] = mom
            t += f"cycle_momentum=True, base_momentum={mom[0]!r}, max_momentum={mom[1]!r})"
        return s, t

    # max_lr = 0: the optimizer's lr is the peak; total = 0: the whole run.
    s, t = oc((0.0, 0.1), (0, 50), 0.3, 25.0, 1e4, "cos", False, (0.85, 0.95))
    case("one_cycle_cos_sgd_momentum", sgd(0.1, 0.9), s, t, 50, 10, momentum=True)
    s, t = oc((0.5, 0.5), (40, 40), 0.25, 10.0, 100.0, "linear", False, None)
    case("one_cycle_linear", sgd(0.1), s, t, 40, 8)
    s, t = oc((0.0, 0.2), (60, 60), 0.3, 25.0, 1e4, "cos", True, (0.85, 0.95))
    case("one_cycle_three_phase", sgd(0.2, 0.9), s, t, 60, 6, momentum=True)
    # pct_start * total = 12.5: phase boundaries off the integer grid.
    s, t = oc((0.0, 0.01), (0, 50), 0.25, 20.0, 1000.0, "cos", False, (0.8, 0.9))
    case("one_cycle_adam_beta1", {"name": "adam", "lr": 0.01, "beta1": 0.9}, s, t, 50, 5,
         momentum=True)
    s, t = oc((0.0, 0.1), (0, 12), 0.4, 25.0, 1e4, "linear", True, None, unit="epoch")
    case("one_cycle_linear_three_phase_epoch", sgd(0.1), s, t, 60, 5)


def linear_cases():
    case("linear_warmup", SGD, {"name": "linear", "unit": "step", "start_factor": 0.25,
                                "end_factor": 1.0, "total": 8},
         "LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=8)", 20, 4)
    case("linear_decay", SGD, {"name": "linear", "unit": "step", "start_factor": 1.0,
                               "end_factor": 0.1, "total": 20},
         "LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=20)", 30, 6)


def warmup_cases():
    case("warmup_cosine_whole_run", SGD,
         {"name": "cosine", "unit": "step", "warmup": 5, "warmup_start": 0.1, "total": 0,
          "min_lr": 0.0},
         "SequentialLR(opt, [LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5), "
         "CosineAnnealingLR(opt, T_max=55, eta_min=0.0)], milestones=[5])", 60, 10)
    case("warmup_cosine_epoch", SGD,
         {"name": "cosine", "unit": "epoch", "update": "epoch", "warmup": 2,
          "warmup_start": 0.2, "total": 0, "min_lr": 0.001},
         "SequentialLR(opt, [LinearLR(opt, start_factor=0.2, end_factor=1.0, total_iters=2), "
         "CosineAnnealingLR(opt, T_max=10, eta_min=0.001)], milestones=[2])", 60, 5)
    case("warmup_step", SGD,
         {"name": "step", "unit": "step", "warmup": 4, "warmup_start": 0.25, "step_size": 10,
          "gamma": 0.5},
         "SequentialLR(opt, [LinearLR(opt, start_factor=0.25, end_factor=1.0, total_iters=4), "
         "StepLR(opt, step_size=10, gamma=0.5)], milestones=[4])", 40, 8)


def sequence_cases():
    case("sequence_linear_constant_cosine", SGD, {"name": "sequence", "unit": "step"},
         "SequentialLR(opt, [LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=5), "
         "ConstantLR(opt, factor=1.0, total_iters=0), "
         "CosineAnnealingLR(opt, T_max=25, eta_min=0.001)], milestones=[5, 15])", 40, 8,
         phases=[{"name": "linear", "start_factor": 0.1, "end_factor": 1.0, "total": 5,
                  "length": 5},
                 {"name": "constant", "length": 10},
                 {"name": "cosine", "total": 25, "min_lr": 0.001}])
    case("sequence_multistep_exp_restarts", sgd(0.2), {"name": "sequence", "unit": "step"},
         "SequentialLR(opt, [MultiStepLR(opt, milestones=[3, 6], gamma=0.5), "
         "ExponentialLR(opt, gamma=0.9), "
         "CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=1, eta_min=0.0)], milestones=[10, 20])",
         40, 10,
         phases=[{"name": "multistep", "milestones": [3, 6], "gamma": 0.5, "length": 10},
                 {"name": "exponential", "gamma": 0.9, "length": 10},
                 {"name": "cosine-restarts", "period": 5, "period_mult": 1, "min_lr": 0.0}])


def plateau_cases():
    # lr 0.1 throughout. "bad" = not better than best by the threshold; a reduction comes on
    # the (patience+1)-th bad epoch in a row; cooldown epochs count no bad epochs.

    # min/rel, threshold 1e-2: 0.995 x best is no improvement; stalls of 2 (= patience, no cut)
    # and 3, 4 (cuts); recovers.
    m = [1.0, 0.9, 0.8, 0.795, 0.799, 0.7, 0.695, 0.7, 0.75, 0.6, 0.6, 0.6, 0.6, 0.6, 0.5,
         0.499, 0.498, 0.497, 0.4, 0.45, 0.45, 0.45, 0.3965, 0.39]
    plateau_case("plateau_min_rel",
                 {"metric": "val_loss", "mode": "min", "factor": 0.5, "patience": 2,
                  "threshold": 0.01, "threshold_mode": "rel", "cooldown": 0, "min_lr": 0.0,
                  "eps": 1e-8},
                 "ReduceLROnPlateau(opt, mode='min', factor=0.5, patience=2, threshold=0.01, "
                 "threshold_mode='rel', cooldown=0, min_lr=0.0, eps=1e-08)", m)

    # min/abs 0.05 with cooldown 2, patience 1, factor 0.3, down to min_lr 0.002 (0.1 -> 0.03
    # -> 0.009 -> 0.0027 -> 0.002 and stays).
    m = [2.0, 1.9, 1.96, 1.8, 1.76, 1.79, 1.78, 1.77, 1.7, 1.69, 1.66, 1.64, 1.6, 1.6, 1.5,
         1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5]
    plateau_case("plateau_min_abs_cooldown_min_lr",
                 {"metric": "train_loss", "mode": "min", "factor": 0.3, "patience": 1,
                  "threshold": 0.05, "threshold_mode": "abs", "cooldown": 2, "min_lr": 0.002,
                  "eps": 1e-8},
                 "ReduceLROnPlateau(opt, mode='min', factor=0.3, patience=1, threshold=0.05, "
                 "threshold_mode='abs', cooldown=2, min_lr=0.002, eps=1e-08)", m)

    # max/rel 1e-3 (an accuracy): +0.05% is no gain; patience 3, cooldown 1, factor 0.1, to
    # min_lr 1e-4.
    m = [0.5, 0.6, 0.7, 0.7003, 0.6995, 0.7004, 0.7006, 0.71, 0.72, 0.72, 0.719, 0.7205, 0.7,
         0.73, 0.73, 0.73, 0.73, 0.73, 0.73, 0.74, 0.74, 0.74, 0.74, 0.74, 0.74, 0.74, 0.74,
         0.74, 0.74, 0.74, 0.74, 0.74, 0.75]
    plateau_case("plateau_max_rel",
                 {"metric": "val_acc", "mode": "max", "factor": 0.1, "patience": 3,
                  "threshold": 0.001, "threshold_mode": "rel", "cooldown": 1, "min_lr": 0.0001,
                  "eps": 1e-8},
                 "ReduceLROnPlateau(opt, mode='max', factor=0.1, patience=3, threshold=0.001, "
                 "threshold_mode='rel', cooldown=1, min_lr=0.0001, eps=1e-08)", m)

    # max/abs 0.01, patience 0 (every bad epoch cuts), factor 0.5, eps 0.01: 0.1 -> 0.05 ->
    # 0.025 -> 0.0125, then a cut of 0.00625 < eps is skipped for good.
    m = [0.3, 0.35, 0.355, 0.37, 0.375, 0.4, 0.405, 0.43, 0.425, 0.45, 0.451, 0.47, 0.47, 0.47,
         0.5, 0.5, 0.49]
    plateau_case("plateau_max_abs_eps",
                 {"metric": "train_acc", "mode": "max", "factor": 0.5, "patience": 0,
                  "threshold": 0.01, "threshold_mode": "abs", "cooldown": 0, "min_lr": 0.0,
                  "eps": 0.01},
                 "ReduceLROnPlateau(opt, mode='max', factor=0.5, patience=0, threshold=0.01, "
                 "threshold_mode='abs', cooldown=0, min_lr=0.0, eps=0.01)", m)

    # Sculpt's and torch's defaults (factor 0.1, patience 10, rel 1e-4, no cooldown): a slow
    # loss whose tiny gains (7e-6 a epoch, below 1e-4 relative) do not count until they add up
    # past the threshold, one epoch after the eleventh bad epoch has cut the rate.
    m = [1.0, 0.9, 0.85, 0.8] + [round(0.8 - 7e-6 * i, 6) for i in range(1, 14)] + [0.7, 0.69] + \
        [0.69] * 12 + [0.6]
    plateau_case("plateau_defaults", {"metric": "val_loss", "mode": "min"},
                 "ReduceLROnPlateau(opt, mode='min')", m)


def main():
    warnings.filterwarnings("ignore")  # lr_scheduler's deprecation notes (SequentialLR's step(0))
    torch.use_deterministic_algorithms(True)
    os.makedirs(OUT_DIR, exist_ok=True)
    step_cases()
    multistep_cases()
    exponential_cases()
    polynomial_cases()
    cosine_cases()
    cosine_restarts_cases()
    cyclic_cases()
    one_cycle_cases()
    linear_cases()
    warmup_cases()
    sequence_cases()
    plateau_cases()
    names = [n for n, _ in CASES]
    assert len(set(names)) == len(names), "duplicate case names"
    for f in os.listdir(OUT_DIR):  # cases that were renamed or dropped
        if f.startswith(PREFIX) and f.endswith(".json") and f[len(PREFIX):-5] not in names:
            os.remove(os.path.join(OUT_DIR, f))
    for name, obj in CASES:
        write(name, obj)
    print(f"wrote {len(CASES)} schedule cases into {os.path.normpath(OUT_DIR)}", file=sys.stderr)


if __name__ == "__main__":
    main()
