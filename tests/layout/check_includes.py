#!/usr/bin/env python3
"""The include rules between the modules of src/, checked on every #include "module/file.h".

Usage: check_includes.py [--source DIR]     check DIR/src (default: this checkout)
       check_includes.py --self-test        prove the check fails: add a forbidden include to a
                                            copy of src/ and expect it reported

Each rule says which modules a module may include (ONLY) or must not include (NEVER), with the
reason; docs/architecture.md ("Dependencies") explains them. A file breaking one is printed as
`src/optim/x.cpp:7: optim must not include io/recipe.h (a family owns its config; ...)` and the
exit status is 1.
"""

import argparse
import os
import re
import shutil
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/[^"]+"')
LIBRARY = ["core", "kernels", "sparse", "nn", "loss", "data", "optim", "sched", "clip", "prune",
           "train", "infer", "report", "io", "run"]

# module -> (kind, modules, reason). ONLY lists what the module may include besides itself.
RULES = {
    "core": ("only", [], "the core depends on nothing"),
    "optim": ("only", ["core"], "an optimizer sees only the parameter arena and owns its config"),
    "sched": ("only", ["core"], "a schedule is a pure function of the step and owns its config"),
    "clip": ("only", ["core"], "clipping is a stage of its own and owns its config"),
    "kernels": ("only", ["core"], "kernels know no layers"),
    "sparse": ("only", ["core", "kernels"], "sparse kernels know no layers"),
    "nn": ("never", ["train", "optim", "io", "cli"], "layers do not know the loop"),
    "infer": ("never", ["train", "cli"], "inference must not pull in training"),
}
# No library module includes the command line.
for m in LIBRARY:
    if m not in RULES:
        RULES[m] = ("never", ["cli"], "the library knows no command line")


def violations(src):
    found = []
    for module in sorted(os.listdir(src)):
        rule = RULES.get(module)
        if rule is None:
            continue
        kind, listed, reason = rule
        for dirpath, _, files in os.walk(os.path.join(src, module)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    for no, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or m.group(1) == module:
                            continue
                        target = m.group(1)
                        bad = target not in listed if kind == "only" else target in listed
                        if bad:
                            rel = os.path.relpath(path, os.path.dirname(src))
                            found.append(f"{rel}:{no}: {module} must not include "
                                         f"{line.split(chr(34))[1]} ({reason})")
    return found


def self_test():
    """A copy of src/ with one forbidden include added must be reported, and only that one."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        shutil.copytree(os.path.join(ROOT, "src"), src)
        before = violations(src)
        with open(os.path.join(src, "optim", "forbidden.cpp"), "w") as f:
            f.write('// added by the self-test\n#include "io/recipe.h"\n')
        after = violations(src)
    added = [v for v in after if v not in before]
    expected = "src/optim/forbidden.cpp:2: optim must not include io/recipe.h"
    if len(added) == 1 and added[0].startswith(expected):
        print(f"check_includes: self-test ok: {added[0]}")
        return 0
    print(f"check_includes: self-test FAILED: expected one violation '{expected} ...', "
          f"got {added}", file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=ROOT, help="the checkout to check")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    found = violations(os.path.join(args.source, "src"))
    for v in found:
        print(v, file=sys.stderr)
    if found:
        print(f"check_includes: {len(found)} forbidden include(s)", file=sys.stderr)
        return 1
    print("check_includes: every include in src/ keeps the module rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
