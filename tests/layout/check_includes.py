#!/usr/bin/env python3
"""The include rules between the modules of src/, checked on every #include "module/file.h",
and the public API's own: include/sculpt/*.h includes only other public headers and the
standard library (no internal header, no third-party library reaches a user).

Usage: check_includes.py [--source DIR]     check DIR/src and DIR/include (default: this checkout)
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
           "train", "infer", "report", "io", "run", "api"]
# The public headers (include/sculpt) depend on nothing of the library: every module may use them.
PUBLIC = "sculpt"
ANGLE = re.compile(r'^\s*#\s*include\s+<([^>]+)>')
STANDARD = re.compile(r"^[a-z_]+$")  # <string>, <cstdint>: standard headers have no extension

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
                        if not m or m.group(1) in (module, PUBLIC):
                            continue
                        target = m.group(1)
                        bad = target not in listed if kind == "only" else target in listed
                        if bad:
                            rel = os.path.relpath(path, os.path.dirname(src))
                            found.append(f"{rel}:{no}: {module} must not include "
                                         f"{line.split(chr(34))[1]} ({reason})")
    return found


def public_violations(include):
    """Includes in include/sculpt that are not another public header or a standard header."""
    found = []
    folder = os.path.join(include, PUBLIC)
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, name)
        with open(path, encoding="utf-8") as f:
            for no, line in enumerate(f, 1):
                quoted, angle = INCLUDE.match(line), ANGLE.match(line)
                if (quoted and quoted.group(1) != PUBLIC) or (
                        angle and not STANDARD.match(angle.group(1))):
                    rel = os.path.relpath(path, os.path.dirname(include))
                    found.append(f"{rel}:{no}: the public API must not include "
                                 f"{line.strip().split(None, 1)[1]} (only sculpt/*.h and the "
                                 f"standard library reach a user)")
    return found


def all_violations(root):
    return violations(os.path.join(root, "src")) + public_violations(os.path.join(root, "include"))


def self_test():
    """A copy of the checkout's src/ and include/ with one forbidden include added to each must
    be reported, and only those."""
    with tempfile.TemporaryDirectory() as tmp:
        for part in ("src", "include"):
            shutil.copytree(os.path.join(ROOT, part), os.path.join(tmp, part))
        before = all_violations(tmp)
        with open(os.path.join(tmp, "src", "optim", "forbidden.cpp"), "w") as f:
            f.write('// added by the self-test\n#include "io/recipe.h"\n')
        with open(os.path.join(tmp, "include", "sculpt", "forbidden.h"), "w") as f:
            f.write('// added by the self-test\n#include <fmt/format.h>\n')
        after = all_violations(tmp)
    added = [v for v in after if v not in before]
    expected = ["src/optim/forbidden.cpp:2: optim must not include io/recipe.h",
                "include/sculpt/forbidden.h:2: the public API must not include <fmt/format.h>"]
    if len(added) == 2 and all(any(a.startswith(e) for a in added) for e in expected):
        for a in added:
            print(f"check_includes: self-test ok: {a}")
        return 0
    print(f"check_includes: self-test FAILED: expected {expected}, got {added}", file=sys.stderr)
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", default=ROOT, help="the checkout to check")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    found = all_violations(args.source)
    for v in found:
        print(v, file=sys.stderr)
    if found:
        print(f"check_includes: {len(found)} forbidden include(s)", file=sys.stderr)
        return 1
    print("check_includes: every include in src/ keeps the module rules, and include/sculpt "
          "only the public API's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
