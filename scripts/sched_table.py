#!/usr/bin/python3
"""Test accuracy of the MLP after 10 epochs with each learning-rate schedule (Fashion-MNIST).

Every case is recipes/mlp.toml (SGD lr 0.1, Nesterov momentum 0.9, weight decay 5e-4, batch
128) with only [schedule] changed, run with three seeds; the table reports mean and standard
deviation of the final test accuracy (and validation accuracy, on which a choice should be
made).

Usage: scripts/sched_table.py [--bin build/release/sculpt] [--epochs 10] [--seeds 42,43,44]
Writes docs/data/sched_accuracy.md (included in docs/schedules.md by scripts/make_docs.sh).
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# (label, --set overrides of [schedule]); every case starts from schedule.name alone.
CASES = [
    ("constant", ["schedule.name=\"constant\""]),
    ("step (x0.1 after epoch 7)", ["schedule.name=\"step\"", "schedule.step_size=7"]),
    ("cosine", ["schedule.name=\"cosine\""]),
    ("warmup 1 epoch + cosine", ["schedule.name=\"cosine\"", "schedule.warmup=1"]),
    ("one-cycle (max_lr 0.1, momentum 0.95-0.85)", ["schedule.name=\"one-cycle\""]),
    ("reduce on plateau (val_loss, patience 1, x0.3)",
     ["schedule.name=\"constant\"", "schedule.plateau.patience=1", "schedule.plateau.factor=0.3"]),
]


def run(binary, sets, epochs, seed, out):
    cmd = [binary, "train", "-q", "--recipe", os.path.join(ROOT, "recipes", "mlp.toml"),
           "--out", out, "--set", "train.epochs=%d" % epochs, "--set", "train.seed=%d" % seed]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), res.stdout, res.stderr))
    with open(os.path.join(out, "metrics.jsonl")) as f:
        end = [json.loads(line) for line in f if '"event":"end"' in line][-1]
    return end["val_acc"], end["test_acc"]


def mean_std(xs):
    return 100 * statistics.mean(xs), 100 * (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "sculpt"))
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--seeds", default="42,43,44")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, sets) in enumerate(CASES):
            vals, tests = [], []
            for seed in seeds:
                val, test = run(args.bin, sets, args.epochs, seed,
                                os.path.join(tmp, "case%d-%d" % (i, seed)))
                vals.append(val)
                tests.append(test)
                print("%-48s seed %d val %.4f test %.4f" % (label, seed, val, test), flush=True)
            rows.append((label, sets, mean_std(vals), mean_std(tests)))
    out = os.path.join(ROOT, "docs", "data", "sched_accuracy.md")
    with open(out, "w") as f:
        f.write("Fashion-MNIST, MLP 784-300-100-10, SGD lr 0.1 with Nesterov momentum 0.9 and "
                "weight decay 5e-4, batch 128, %d epochs, seeds %s; measured %s with "
                "`scripts/sched_table.py`. Mean ± standard deviation over the seeds.\n\n"
                % (args.epochs, ", ".join(map(str, seeds)), datetime.date.today().isoformat()))
        f.write("| schedule | `--set` | val acc | test acc |\n|---|---|---|---|\n")
        for label, sets, (vm, vs), (tm, ts) in rows:
            keys = " ".join("`%s`" % s.replace("schedule.", "") for s in sets)
            f.write("| %s | %s | %.2f ± %.2f%% | %.2f ± %.2f%% |\n" % (label, keys, vm, vs, tm, ts))
    print("wrote", out)


if __name__ == "__main__":
    main()
