#!/usr/bin/env python3
"""Runs every command README.md shows, so that a README line that stops working fails ./test.

Commands are the lines of the README's ```sh fences (a trailing backslash continues a line,
`#` starts a comment) and the inline code spans that look like a command a reader would paste
(`./...`, `build/...`, `cmake ...`). Each one is either run here or on EXCLUDED below with the
reason; a command that is neither fails the test, so a new README command has to be handled.

Everything runs in a temporary directory holding a copy of recipes/ and build/release/sculpt, a
link to the CLI of the build under test; nothing is written into the source tree. `./run ARGS`
runs as what it execs (`sculpt train [--recipe recipes/default.toml] ARGS`) without its apt and
build steps. Training on Fashion-MNIST is shortened by a data subset (SHORT_FASHION), never by
changing a recipe's epochs, so the recipes' schedules and pruning ramps are checked as written.
Placeholders name runs this script trains first (PLACEHOLDERS).

Exit status: 0 when every command worked (or, outside CI, when Fashion-MNIST is missing: the
run prints SKIP_MARKER, which CTest reports as skipped), 1 otherwise.

Usage: run_readme_commands.py --cli build/release/sculpt --source . [--keep] [--list]
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

SKIP_MARKER = "readme-commands: SKIPPED"
FASHION_DIR = "/usr/share/datasets/fashion-mnist"

# Fence languages: these hold commands...
SHELL_FENCES = {"sh", "bash", "shell"}
# ...and these hold something else, never run. Any other language fails the test until it is
# added to one of the two.
NOT_COMMAND_FENCES = {
    "": "program output (the summary of a run)",
    "toml": "recipe fragments, parsed by the recipe tests",
    "cmake": "a consumer project's CMakeLists.txt lines: tests/consumer builds such a project",
    "cpp": "C++ source: examples/infer.cpp and examples/train_mlp.cpp are the full programs, "
           "built and run by the tests",
}

# Inline code spans starting like this are commands, held to the same rule as fenced ones.
INLINE_COMMAND = re.compile(r"^(\./|build/|cmake )")

# Commands that are not run, each with the reason. Keys are the command with its comment
# removed and whitespace collapsed; a key ending in "*" matches every command it begins.
EXCLUDED = {
    "./test*": "runs this very test (and builds both presets and runs the whole suite)",
    "cmake --install build/release --prefix /your/prefix":
        "/your/prefix is a placeholder outside the temporary directory; the consumer_find_package "
        "test installs the package into a scratch prefix and builds a project against it",
    "./bench/run*":
        "benchmarks: they need PyTorch (python3-torch) and take minutes per case to measure "
        "speed, not behaviour",
    "build/release/sculpt-infer-example":
        "names the built example binary in prose (it takes a model and images); the export "
        "integration test runs it",
    "build/release/sculpt train -r recipes/char-lstm.toml --out runs/char-lstm":
        "a character LSTM on fortunes: minutes of training for one generation example; "
        "GenerateCli (tests/integration/generate_cli_test.cpp) trains, exports and generates "
        "from a small character model the same way",
    "build/release/sculpt export --checkpoint runs/char-lstm":
        "exports the char-lstm run above, which is not trained here",
    "build/release/sculpt infer runs/char-lstm/model.sculpt*":
        "generates from the char-lstm export above, which is not made here",
    "build/release/sculpt-train-example*":
        "the example binary, not the CLI this harness runs; the TrainExample integration test "
        "runs it with these arguments on a Fashion-MNIST subset",
}

# Run directories the README's placeholders stand for, trained before the first command.
RUN = "runs/readme-run"
MLP_RUN = "runs/readme-mlp"
PLACEHOLDERS = {"runs/<run>": RUN, "runs/<mlp-run>": MLP_RUN}

# Fashion-MNIST training shortened to a subset: 1,000 training images (900 after the validation
# split, 8 steps an epoch at batch 128) make a default-recipe run about a second and the seed
# CNN's five epochs a few seconds.
SHORT_FASHION = {
    "data.limit_train": "1000",
    "data.limit_test": "500",
    "output.progress": "none",
}

# Trained before the README's commands: the runs `runs/<run>` and `runs/<mlp-run>` name, and the
# three runs `sculpt report runs/a runs/b runs/c` compares (default recipe, three rates).
SETUP = [
    ["train", "--recipe", "recipes/default.toml", "--out", RUN],
    ["train", "--recipe", "recipes/mlp.toml", "--out", MLP_RUN],
    ["train", "--recipe", "recipes/default.toml", "--out", "runs/a", "--set", "optim.lr=0.1"],
    ["train", "--recipe", "recipes/default.toml", "--out", "runs/b", "--set", "optim.lr=0.05"],
    ["train", "--recipe", "recipes/default.toml", "--out", "runs/c", "--set", "optim.lr=0.02"],
]

CLI = "build/release/sculpt"
# Words the shell would interpret: this runner passes arguments as they are, without a shell.
SHELL_OPERATORS = {"|", "||", "&", "&&", ";", "<", ">", ">>", "2>&1", "(", ")"}
COMMAND_TIMEOUT = 600  # seconds, per command


class Command:
    def __init__(self, text, line, origin):
        # Split by the shell's rules: quotes respected, a word starting with `#` begins a comment.
        self.argv = shlex.split(text, comments=True)
        self.text = " ".join(self.argv)  # the command without its comment, for EXCLUDED
        self.line = line      # line number in README.md
        self.origin = origin  # "sh fence" or "inline"


def readme_commands(readme_text):
    """(commands in README order, errors) from the fences and inline code spans."""
    commands, errors = [], []
    lines = readme_text.split("\n")
    prose = []  # (line number, text) outside fences, for inline spans
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```(\S*)\s*$", lines[i])
        if not m:
            prose.append((i + 1, lines[i]))
            i += 1
            continue
        lang, start = m.group(1), i + 1
        body = []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```\s*$", lines[i]):
            body.append((i + 1, lines[i]))
            i += 1
        i += 1  # the closing fence
        if lang in NOT_COMMAND_FENCES:
            continue
        if lang not in SHELL_FENCES:
            errors.append(f"README.md:{start}: a ```{lang} fence is neither run nor classified "
                          "(add its language to SHELL_FENCES or NOT_COMMAND_FENCES)")
            continue
        logical, first = "", None
        for number, text in body:
            first = first or number
            if text.rstrip().endswith("\\"):
                logical += text.rstrip()[:-1] + " "
                continue
            logical += text
            try:
                command = Command(logical, first, "sh fence")
                if command.argv:
                    commands.append(command)
            except ValueError as e:
                errors.append(f"README.md:{first}: cannot split {logical.strip()!r}: {e}")
            logical, first = "", None
        if logical.strip():
            errors.append(f"README.md:{first}: the fence ends inside a continued line")
    # Inline spans may wrap across lines: join the prose of each paragraph first.
    text = "\n".join(t for _, t in prose)
    numbers = [n for n, _ in prose]
    for m in re.finditer(r"(?<!`)`([^`]+)`(?!`)", text):
        span = " ".join(m.group(1).split())
        if INLINE_COMMAND.match(span):
            line = numbers[text.count("\n", 0, m.start())]
            try:
                commands.append(Command(span, line, "inline"))
            except ValueError as e:
                errors.append(f"README.md:{line}: cannot split {span!r}: {e}")
    return commands, errors


def exclusion(text):
    for key, reason in EXCLUDED.items():
        if key == text or (key.endswith("*") and text.startswith(key[:-1])):
            return key, reason
    return None, None


def set_keys(argv):
    """Keys the command sets with --set/-s KEY=VALUE (several values may follow one --set)."""
    keys, taking = set(), False
    for a in argv:
        if a in ("--set", "-s"):
            taking = True
        elif a.startswith("-"):
            taking = False
        elif taking and "=" in a:
            keys.add(a.split("=", 1)[0])
    return keys


def option(argv, *names):
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                return argv[i + 1]
            if a.startswith(n + "="):
                return a[len(n) + 1:]
    return None


def is_fashion(recipe_path):
    try:
        with open(recipe_path, encoding="utf-8") as f:
            return re.search(r'^\s*source\s*=\s*"fashion-mnist"', f.read(), re.M) is not None
    except OSError:
        return False  # the command itself reports the missing recipe


def sculpt_args(argv):
    """The `sculpt` arguments a README command runs as, or None if it is not a Sculpt command.

    ./run execs `build/release/sculpt train ARGS`, adding --recipe recipes/default.toml when
    ARGS has no `--recipe` (its own test, spelled the same way here)."""
    if argv[0] == CLI:
        return list(argv[1:])
    if argv[0] == "./run":
        args = list(argv[1:])
        if not any(a == "--recipe" or a.startswith("--recipe=") for a in args):
            args = ["--recipe", "recipes/default.toml"] + args
        return ["train"] + args
    return None


def shortened(args, cwd):
    """args plus the data subset, for a new training run on Fashion-MNIST (run from cwd)."""
    if not args or args[0] != "train" or option(args, "--resume") is not None:
        return args  # a resume keeps the subset its run was trained with
    recipe = option(args, "--recipe", "-r")
    if recipe is None or not is_fashion(os.path.join(cwd, recipe)):
        return args
    have = set_keys(args)
    extra = []
    for key, value in SHORT_FASHION.items():
        if key not in have:
            extra += ["--set", f"{key}={value}"]
    return args + extra


def expected_files(args, output):
    """Files the README promises the command writes: [(path, what)]."""
    files = []
    verb = args[0] if args else ""
    if verb == "train":
        resumed = option(args, "--resume")
        # A resume of a run that has already finished says so and changes nothing (the resume
        # of a stopped run is tested by tests/integration/interrupt_test.cpp).
        if resumed is not None and f"run {resumed} is already complete" in output:
            return []
        m = re.search(r"^run directory:\s*(\S+)", output, re.M)
        if not m:
            return [("(none)", "a 'run directory:' line in the summary")]
        run = m.group(1)
        out = option(args, "--out", "-o") or option(args, "--resume")
        if out is not None and os.path.normpath(run) != os.path.normpath(out):
            return [("(none)", f"the run directory {out} (the summary names {run})")]
        files += [(os.path.join(run, f), "run directory")
                  for f in ("recipe.toml", "metrics.jsonl", "report.html",
                            "checkpoints/last.safetensors")]
    elif verb in ("schedule", "lr-find"):
        plot = option(args, "--plot")
        if plot is None and verb == "lr-find":
            recipe = option(args, "--recipe", "-r")
            stem = os.path.splitext(os.path.basename(recipe))[0]
            out = option(args, "--out", "-o") or os.path.join("runs", "lr-find-" + stem)
            plot = os.path.join(out, "lr-find.svg")
        if plot is not None:
            files.append((plot, "plot"))
            if verb == "lr-find":
                files.append((os.path.splitext(plot)[0] + ".csv", "loss per rate"))
    elif verb == "export" and option(args, "--out", "-o") is None:
        files.append((os.path.join(option(args, "--checkpoint", "-c"), "model.sculpt"), "export"))
    elif verb == "report" and option(args, "--out", "-o") is None:
        dirs = [a for a in args[1:] if not a.startswith("-")]
        files.append((os.path.join(dirs[0], "report.html") if len(dirs) == 1 else "report.html",
                      "report"))
    elif verb == "prune" and len(args) > 1 and args[1] == "sensitivity":
        if option(args, "--out", "-o") is None:
            run = option(args, "--checkpoint", "-c")
            files += [(os.path.join(run, "sensitivity." + e), "sensitivity") for e in ("csv", "svg")]
    return files


def expected_output(args):
    """A word the command's output must contain (the README's comments promise an accuracy)."""
    verb = args[0] if args else ""
    return "accuracy" if verb in ("eval", "infer") else None


def run(argv, cwd, cli):
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    start = time.time()
    try:
        p = subprocess.run([cli] + argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           timeout=COMMAND_TIMEOUT)
        code, out = p.returncode, p.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        code = f"timeout after {COMMAND_TIMEOUT} s"
        out = (e.stdout or b"").decode("utf-8", "replace")
    return code, out, start, time.time() - start


def tail(text, n=30):
    lines = text.rstrip("\n").split("\n")
    return "\n".join("    | " + l for l in lines[-n:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the sculpt binary under test")
    ap.add_argument("--source", required=True, help="the source tree (README.md, recipes/)")
    ap.add_argument("--readme", help="README to check (default: SOURCE/README.md)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--list", action="store_true", help="only print how each command is handled")
    a = ap.parse_args()
    cli = os.path.abspath(a.cli)
    source = os.path.abspath(a.source)
    with open(a.readme or os.path.join(source, "README.md"), encoding="utf-8") as f:
        commands, errors = readme_commands(f.read())

    # Classify everything before running anything: an unhandled command fails even without data.
    plan, seen = [], set()
    for c in commands:
        if c.text in seen:
            continue  # the same command again (e.g. `./run` inline and fenced)
        seen.add(c.text)
        key, reason = exclusion(c.text)
        if key is not None:
            print(f"README.md:{c.line}: excluded: {c.text}  ({reason})", flush=True)
            continue
        args = sculpt_args(c.argv)
        if any(w in SHELL_OPERATORS or "$" in w or "`" in w for w in c.argv):
            errors.append(f"README.md:{c.line}: {c.text!r} uses shell syntax (pipes, redirections, "
                          "variables) this runner does not interpret: teach it or exclude it")
            continue
        if args is None:
            errors.append(f"README.md:{c.line}: {c.origin} command {c.text!r} is neither run nor "
                          "in EXCLUDED (tests/readme/run_readme_commands.py): run it or give the "
                          "reason it is not")
            continue
        args = [next((PLACEHOLDERS[p] + w[len(p):] for p in PLACEHOLDERS if w.startswith(p)), w)
                for w in args]
        leftover = [w for w in args if re.search(r"[<>]|\.\.\.", w)]
        if leftover:
            errors.append(f"README.md:{c.line}: {c.text!r} has a placeholder this test does not "
                          f"fill: {' '.join(leftover)} (add it to PLACEHOLDERS)")
            continue
        plan.append((c, args))
    for e in errors:
        print("FAIL " + e, flush=True)
    if errors:
        return 1
    if a.list:
        for c, args in plan:
            print(f"README.md:{c.line}: {c.text}\n    runs: sculpt "
                  f"{shlex.join(shortened(args, source))}")
        return 0

    if not os.path.exists(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz")):
        if os.environ.get("CI") == "true":
            print(f"FAIL Fashion-MNIST is not in {FASHION_DIR} (scripts/deps.sh installs "
                  "dataset-fashion-mnist); under CI=true this test does not skip", flush=True)
            return 1
        print(f"{SKIP_MARKER}: Fashion-MNIST is not in {FASHION_DIR}", flush=True)
        return 0

    work = tempfile.mkdtemp(prefix="sculpt-readme-")
    failures = []
    total = time.time()
    try:
        shutil.copytree(os.path.join(source, "recipes"), os.path.join(work, "recipes"))
        os.makedirs(os.path.join(work, os.path.dirname(CLI)))
        os.symlink(cli, os.path.join(work, CLI))
        print(f"working in {work}", flush=True)
        for c, args in [(None, s) for s in SETUP] + plan:
            args = shortened(args, work)
            label = (f"README.md:{c.line}: {c.text}" if c else "setup: sculpt " + shlex.join(args))
            code, out, start, took = run(args, work, cli)
            problems = []
            if code != 0:
                problems.append(f"exit status {code}")
            else:
                for path, what in expected_files(args, out):
                    full = os.path.join(work, path)
                    if not os.path.exists(full):
                        problems.append(f"no {path} ({what})")
                    elif os.path.getmtime(full) < start - 1:
                        problems.append(f"{path} ({what}) was not written by this command")
                word = expected_output(args)
                if word and word not in out.lower():
                    problems.append(f"the output does not mention {word!r}")
            status = "ok" if not problems else "FAIL " + "; ".join(problems)
            print(f"[{took:5.1f} s] {status}: {label}", flush=True)
            if problems:
                print(f"    ran: sculpt {shlex.join(args)}\n{tail(out)}", flush=True)
                failures.append(label)
                if c is None:
                    break  # the README's commands need the setup runs
    finally:
        if a.keep:
            print(f"kept {work}", flush=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
            if failures:
                print("(--keep keeps the temporary directory to look into)", flush=True)
    print(f"{len(plan)} README commands run, {len(failures)} failed, "
          f"{time.time() - total:.1f} s", flush=True)
    for f in failures:
        print("FAILED " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
