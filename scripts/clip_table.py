#!/usr/bin/python3
"""Gradient clipping on the character LSTM: every rule against none, with Adam and with SGD.

Every case is recipes/char-lstm.toml (2-layer LSTM 256 on Debian's fortunes, windows of 100
characters, batch 64) with only [optim] and [clip] changed:
  - Adam lr 2e-3, the recipe's optimizer: none, global-norm 1.0 (the recipe), AGC (lambda 0.01,
    Brock et al.'s default), AutoClip (10th percentile of the past norms, Seetharaman et al.);
  - SGD lr 20, the classic LSTM language-model setting (PyTorch's word_language_model example
    clips the global norm at 0.25): none, global-norm 0.25, AGC 0.01, AutoClip 10.
Each runs --epochs epochs per seed; the table gives the final validation and test perplexity
(exp of the loss per character), the share of steps clipped and the largest pre-clip gradient
norm. A run that stops on a non-finite loss or gradient (train.nonfinite = "stop") is reported
as diverged, with the step.

Usage: scripts/clip_table.py [--bin build/release/sculpt] [--epochs 2] [--seeds 42]
                             [--threads 2] [--jobs 1] [--only CASES] [--table-only]
Writes docs/data/clip_charlstm.md (included in docs/clipping.md by scripts/make_docs.sh) and
appends the raw records to bench/results/clip_charlstm.jsonl: one JSON object per run as it
ends (an interrupted study keeps them), then a meta record.
"""
import argparse
import concurrent.futures as cf
import datetime
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RECIPE = os.path.join("recipes", "char-lstm.toml")
RESULTS = os.path.join("bench", "results", "clip_charlstm.jsonl")
TABLE = os.path.join("docs", "data", "clip_charlstm.md")

ADAM = ["optim.name=adam", "optim.lr=0.002"]
SGD = ["optim.name=sgd", "optim.lr=20"]
# (optimizer label, clip label, --set overrides); [clip] is replaced by clip.name alone first.
CASES = [(opt, clip, sets + c)
         for opt, sets, limit in (("Adam 2e-3", ADAM, 1.0), ("SGD 20", SGD, 0.25))
         for clip, c in (("none", ["clip.name=none"]),
                         ("global-norm %g" % limit, ["clip.name=global-norm",
                                                     "clip.max_norm=%g" % limit]),
                         ("agc 0.01", ["clip.name=agc", "clip.clipping=0.01"]),
                         ("autoclip p10", ["clip.name=autoclip", "clip.percentile=10"]))]


def run(args, case, seed):
    opt, clip, sets = case
    out = tempfile.mkdtemp(prefix="clip-")
    cmd = [args.bin, "train", "-q", "--recipe", RECIPE, "--out", out, "--force"]
    for s in sets + ["train.epochs=%d" % args.epochs, "train.seed=%d" % seed,
                     "train.threads=%d" % args.threads, "output.progress=none"]:
        cmd += ["--set", s]
    env = dict(os.environ, OMP_WAIT_POLICY="passive")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    recs = []
    path = os.path.join(out, "metrics.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            recs = [json.loads(line) for line in f if line.endswith("\n")]
    steps = [r for r in recs if r.get("event") == "step"]
    epochs = [r for r in recs if r.get("event") == "epoch"]
    end = next((r for r in recs if r.get("event") == "end"), None)
    rec = {"optimizer": opt, "clip": clip, "seed": seed, "epochs": args.epochs,
           "cmd": "sculpt " + shlex.join(cmd[1:]), "exit": res.returncode,
           "steps": steps[-1]["step"] if steps else 0,
           "max_grad_norm": max((r["grad_norm"] for r in steps
                                 if math.isfinite(r.get("grad_norm", math.nan))), default=None),
           "clip_rate": (statistics.mean(r.get("clip_rate", 0.0) for r in epochs)
                         if epochs else None)}
    if end and res.returncode == 0:
        rec.update({"val_loss": end["val_loss"], "test_loss": end["test_loss"],
                    "time_s": round(end["time_s"], 1)})
    else:
        lines = (res.stdout + res.stderr).strip().splitlines()
        rec["error"] = lines[-1] if lines else "exit %d" % res.returncode
    subprocess.run(["rm", "-rf", out])
    print("%-10s %-16s seed %d: %s" % (opt, clip, seed, (
        "val ppl %.3f test ppl %.3f, clip rate %.2f, max norm %.3g" % (
            math.exp(rec["val_loss"]), math.exp(rec["test_loss"]), rec["clip_rate"] or 0.0,
            rec["max_grad_norm"] or 0.0)) if "val_loss" in rec else rec["error"]), flush=True)
    return rec


def cell(recs, key):
    vals = [math.exp(r[key]) for r in recs if key in r and math.isfinite(r[key])]
    if len(vals) < len(recs):
        bad = [r for r in recs if key not in r or not math.isfinite(r[key])]
        return "diverged (%d of %d seeds, by step %d)" % (len(bad), len(recs),
                                                         max(r["steps"] for r in bad))
    if max(vals) > 1000:  # no learning: a mean of such numbers says nothing
        return "not learning (%s)" % ", ".join("%.2g" % v for v in vals)
    if len(vals) == 1:
        return "%.3f" % vals[0]
    return "%.3f ± %.3f" % (statistics.mean(vals), statistics.stdev(vals))


def table(records, meta):
    lines = [
        "The character LSTM of `recipes/char-lstm.toml` (892,337 parameters, Debian's fortunes, "
        "windows of 100 characters, batch 64), %d epoch%s, seed%s %s, with only the optimizer "
        "and the clipping rule changed; measured %s at commit %s with `%s` (%d thread%s per "
        "run, load %s at the start). Perplexity is exp of the loss per character (lower is "
        "better); the clip rate is the mean share of each epoch's steps that the rule changed."
        % (meta["epochs"], "" if meta["epochs"] == 1 else "s",
           "" if len(meta["seeds"]) == 1 else "s", ", ".join(map(str, meta["seeds"])),
           meta["date"], meta["commit"], meta["cmd"], meta["threads"],
           "" if meta["threads"] == 1 else "s", meta["load_start"]),
        "",
        "| optimizer | clipping | seeds | val perplexity | test perplexity | steps clipped | "
        "largest pre-clip norm |",
        "|---|---|---|---|---|---|---|"]
    for opt, clip, _ in CASES:
        rs = [r for r in records if r["optimizer"] == opt and r["clip"] == clip]
        if not rs:
            continue
        rate = [r["clip_rate"] for r in rs if r.get("clip_rate") is not None]
        norm = [r["max_grad_norm"] for r in rs if r.get("max_grad_norm") is not None]
        lines.append("| %s | %s | %d | %s | %s | %s | %s |" % (
            opt, clip, len(rs), cell(rs, "val_loss"), cell(rs, "test_loss"),
            "%.1f%%" % (100 * statistics.mean(rate)) if rate and clip != "none" else "—",
            "%.3g" % max(norm) if norm else "—"))
    return "\n".join(lines) + "\n"


def table_only(args):
    """The table from the stored records of args.epochs epochs: the latest of each case and
    seed; the meta line from the records themselves."""
    latest = {}
    with open(os.path.join(ROOT, RESULTS)) as f:
        for line in f:
            r = json.loads(line)
            if not r.get("meta") and r.get("epochs") == args.epochs:
                latest[(r["optimizer"], r["clip"], r["seed"])] = r
    records = list(latest.values())
    if not records:
        sys.exit("clip_table: no records of %d epochs in %s" % (args.epochs, RESULTS))
    seeds = sorted({r["seed"] for r in records})
    threads = {int(c.split("train.threads=")[1].split()[0]) for c in (r["cmd"] for r in records)}
    meta = {"date": datetime.date.today().isoformat(),
            "commit": ",".join(sorted({r.get("commit", "?") for r in records})),
            "cmd": "scripts/clip_table.py --epochs %d --seeds %s --threads %d" % (
                args.epochs, ",".join(map(str, seeds)), max(threads)),
            "epochs": args.epochs, "seeds": seeds, "threads": max(threads),
            "load_start": "not recorded"}
    with open(os.path.join(ROOT, TABLE), "w") as f:
        f.write(table(records, meta))
    print("wrote %s from %d records" % (TABLE, len(records)))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "sculpt"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seeds", default="42")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--only", default="",
                    help="run only these cases: comma-separated 'optimizer/clipping' labels as "
                         "in the table, e.g. 'SGD 20/agc 0.01,SGD 20/autoclip p10'")
    ap.add_argument("--table-only", action="store_true",
                    help="run nothing: write the table from the records of --epochs epochs "
                         "already in bench/results/clip_charlstm.jsonl (the latest per case and "
                         "seed), e.g. of a study still running")
    args = ap.parse_args()
    if args.table_only:
        return table_only(args)
    seeds = [int(s) for s in args.seeds.split(",")]
    only = [c for c in args.only.split(",") if c]
    unknown = [c for c in only if c not in ["%s/%s" % (o, k) for o, k, _ in CASES]]
    if unknown:
        ap.error("unknown case(s) %s; cases: %s" % (", ".join(unknown), ", ".join(
            "%s/%s" % (o, k) for o, k, _ in CASES)))
    cases = [c for c in CASES if not only or "%s/%s" % (c[0], c[1]) in only]
    load_start = "%.2f %.2f %.2f" % os.getloadavg()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=ROOT).stdout.strip() or "?"
    # Each record is appended as its run ends, so an interrupted study keeps what it measured.
    partial = os.path.join(ROOT, RESULTS)

    def run_and_keep(case, seed):
        rec = run(args, case, seed)
        with open(partial, "a") as f:
            f.write(json.dumps({**rec, "commit": commit}) + "\n")
        return rec

    with cf.ThreadPoolExecutor(args.jobs) as pool:
        records = list(pool.map(lambda cs: run_and_keep(*cs),
                                [(c, s) for c in cases for s in seeds]))
    meta = {"meta": True, "date": datetime.date.today().isoformat(), "commit": commit,
            "cmd": "scripts/clip_table.py" + ("" if len(sys.argv) < 2 else
                                              " " + shlex.join(sys.argv[1:])),
            "epochs": args.epochs, "seeds": seeds, "threads": args.threads, "jobs": args.jobs,
            "load_start": load_start, "load_end": "%.2f %.2f %.2f" % os.getloadavg()}
    with open(partial, "a") as f:
        f.write(json.dumps(meta) + "\n")
    if only:  # a part of the study: the table of every stored record
        return table_only(args)
    with open(os.path.join(ROOT, TABLE), "w") as f:
        f.write(table(records, meta))
    print("wrote %s and %s" % (TABLE, RESULTS))


if __name__ == "__main__":
    main()
