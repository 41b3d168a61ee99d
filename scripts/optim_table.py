#!/usr/bin/python3
"""Test accuracy after 5 epochs of every optimizer on Fashion-MNIST (the MLP recipe).

For each optimizer the learning rate is chosen on the validation split from three candidates
(a third of, equal to and three times a usual value for that optimizer); the table reports the
test accuracy of the chosen rate. Everything else is the MLP recipe with a constant rate and
each optimizer's default options (no weight decay, except AdamW's default 0.01).

Usage: scripts/optim_table.py [--bin build/release/sculpt] [--epochs 5] [--threads 2]
Writes docs/data/optim_accuracy.md (included in docs/optimizers.md by scripts/make_docs.sh).
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# (label, optimizer, extra --set options, usual lr)
CASES = [
    ("SGD", "sgd", [], 0.1),
    ("SGD + momentum 0.9", "sgd", ["optim.momentum=0.9"], 0.03),
    ("SGD + momentum 0.9 (EMA form)", "sgd", ["optim.momentum=0.9", "optim.momentum_form=\"ema\""], 0.3),
    ("SGD + Nesterov 0.9", "sgd", ["optim.momentum=0.9", "optim.nesterov=true"], 0.03),
    ("AdaGrad", "adagrad", [], 0.03),
    ("RMSprop", "rmsprop", [], 3e-4),
    ("RMSprop centered + momentum 0.9", "rmsprop", ["optim.centered=true", "optim.momentum=0.9"], 1e-4),
    ("Adam", "adam", [], 1e-3),
    ("AdamW (wd 0.01)", "adamw", [], 1e-3),
    ("AMSGrad", "amsgrad", [], 1e-3),
    ("NAdam", "nadam", [], 1e-3),
    ("Lion", "lion", [], 1e-4),
]


def run(binary, name, extra, lr, epochs, threads, out):
    sets = ["optim.name=\"%s\"" % name, "optim.lr=%g" % lr, "train.epochs=%d" % epochs,
            "train.threads=%d" % threads, "schedule.name=\"constant\"", "optim.weight_decay=0"
            if name != "adamw" else "optim.weight_decay=0.01"]
    if name == "sgd":  # mlp.toml's SGD has Nesterov momentum: start each case from plain SGD
        sets += ["optim.momentum=0", "optim.nesterov=false"]
    sets += extra
    cmd = [binary, "train", "-q", "--recipe", os.path.join(ROOT, "recipes", "mlp.toml"),
           "--out", out]
    for s in sets:
        cmd += ["--set", s]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode == 4:  # numeric error: the rate is too high and the run diverged
        return float("nan"), float("nan")
    if res.returncode != 0:
        sys.exit("failed: %s\n%s%s" % (" ".join(cmd), res.stdout, res.stderr))
    with open(os.path.join(out, "metrics.jsonl")) as f:
        end = [json.loads(line) for line in f if '"event":"end"' in line][-1]
    return end["val_acc"], end["test_acc"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "sculpt"))
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, name, extra, lr in CASES:
            tried = []
            for f in (1 / 3, 1, 3):
                rate = float("%.3g" % (lr * f))
                val, test = run(args.bin, name, extra, rate, args.epochs, args.threads,
                                os.path.join(tmp, "%s-%g" % (name, rate)))
                tried.append((val, rate, test))
                print("%-34s lr %-8g val %.4f test %.4f" % (label, rate, val, test), flush=True)
            val, rate, test = max(t for t in tried if t[0] == t[0])  # NaN: diverged
            rows.append((label, name, extra, rate, val, test,
                         ["%g%s" % (t[1], "" if t[0] == t[0] else "†") for t in tried]))
    out = os.path.join(ROOT, "docs", "data", "optim_accuracy.md")
    with open(out, "w") as f:
        f.write("Fashion-MNIST, MLP 784-300-100-10, batch 128, %d epochs, constant rate, seed 42, "
                "measured %s with `scripts/optim_table.py`. The rate is the best on the validation "
                "split of the three tried.\n\n" % (args.epochs, datetime.date.today().isoformat()))
        f.write("Rates marked † diverged (a non-finite gradient stopped the run).\n\n")
        f.write("| optimizer | recipe | rates tried | chosen lr | val acc | test acc |\n")
        f.write("|---|---|---|---|---|---|\n")
        for label, name, extra, rate, val, test, tried in rows:
            keys = ", ".join(["name = \"%s\"" % name] + [e.replace("optim.", "").replace("=", " = ")
                                                         for e in extra])
            f.write("| %s | `%s` | %s | %g | %.2f%% | %.2f%% |\n" % (
                label, keys, ", ".join(tried), rate, 100 * val, 100 * test))
    print("wrote", out)


if __name__ == "__main__":
    main()
