#!/usr/bin/env python3
"""Size limits of src/: no file over 400 lines, no function over 60, data tables aside.

Usage: tests/layout/check_sizes.py [--root DIR] [--list] [--self-test]

Breaches named in tests/layout/size_exceptions.txt (`path` for a file, `path function` for a
function; # comments) are the ones left from before the limits: they are reported but pass, and
an entry that no longer breaches fails the check until it is removed, so the list only shrinks.

A function's length is the lines of its body that are not inside a braced initializer (a table
of rows, an initializer list: a `{` that follows `=`, `(`, `,`, `{` or `return`), so a registry
function holding one long table counts only its few lines of code. Lambdas inside such tables
count with the table. Prints every breach as `file:line: what` and exits 1 when there is one.
--list prints the longest functions and files even when within the limits. --self-test checks
the counter on small known inputs.
"""

import argparse
import os
import re
import sys

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
TYPE_OPENER = re.compile(r"^(template\s*<.*>\s*)?(class|struct|union|enum)\b")
NAMESPACE_OPENER = re.compile(r"^(inline\s+)?namespace\b|^extern\s+\"C\"")


def strip_code(text):
    """Comments, strings and character literals blanked out; newlines kept."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def strip_preprocessor(code):
    """Preprocessor lines (and their continuations) blanked out; newlines kept."""
    out, cont = [], False
    for ln in code.split("\n"):
        directive = cont or ln.lstrip().startswith("#")
        cont = directive and ln.rstrip().endswith("\\")
        out.append("" if directive else ln)
    return "\n".join(out)


def functions(text):
    """(name, first line, counted lines) of every function body in `text`."""
    code = strip_preprocessor(strip_code(text))
    stack = []  # (kind, start line, text before the brace); kind ns | type | fn | init | block
    found = []
    last = 0  # index after the last ; { or }
    line = 1
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
            continue
        if c in ";":
            last = i + 1
            continue
        if c == "{":
            before = code[last:i].strip()
            tail = before[-1:] if before else ""
            enclosing = [k for k, _, _ in stack if k != "ns"]
            if NAMESPACE_OPENER.match(before):
                kind = "ns"
            elif "init" in enclosing or tail in ("=", "(", ",", "{") or before.endswith("return") \
                    or not before:
                kind = "init"
            elif TYPE_OPENER.match(before) and "(" not in before:
                kind = "type"
            elif all(k == "type" for k in enclosing) and "(" in before:
                kind = "fn"
            else:
                kind = "block"
            stack.append((kind, line, before))
            last = i + 1
            continue
        if c == "}":
            if stack:
                kind, start, before = stack.pop()
                if kind == "fn":
                    name = re.sub(r"\s+", " ", before.split("(")[0]).split(" ")[-1]
                    found.append((name, start, line))
            last = i + 1
    # Count each function's lines outside initializers.
    result = []
    for name, start, end in found:
        result.append((name, start, body_lines(code, start, end)))
    return result


def body_lines(code, start, end):
    """Lines strictly between the function's braces that hold code outside initializers."""
    lines = code.split("\n")[start - 1:end]
    # Re-scan the body: depth of initializer braces per line.
    count = 0
    depth_init = 0
    stack = []
    last = ""
    first = True
    for k, text in enumerate(lines):
        in_init_at_start = depth_init > 0
        has_code = bool(text.strip())
        for c in text:
            if c == "{":
                if first:
                    first = False
                    stack.append(False)
                    last = ""
                    continue
                b = last.strip()
                init = depth_init > 0 or (b[-1:] in ("=", "(", ",", "{")) or b.endswith("return") or not b
                stack.append(init)
                if init:
                    depth_init += 1
                last = ""
            elif c == "}":
                if stack and stack.pop():
                    depth_init -= 1
                last = ""
            elif c == ";":
                last = ""
            else:
                last += c
        if 0 < k < len(lines) - 1 and has_code and not in_init_at_start:
            count += 1
    return count


EXCEPTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "size_exceptions.txt")


def load_exceptions():
    out = set()
    if os.path.exists(EXCEPTIONS):
        for ln in open(EXCEPTIONS, encoding="utf-8"):
            ln = ln.split("#")[0].strip()
            if ln:
                out.add(ln)
    return out


def check(root, show):
    src = os.path.join(root, "src")
    breaches, longest = [], []  # (exception key, message)
    for dirpath, _, files in os.walk(src):
        for f in sorted(files):
            if not f.endswith((".h", ".cpp")):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, root)
            text = open(path, encoding="utf-8").read()
            n = text.count("\n")
            if n > MAX_FILE_LINES:
                breaches.append((rel, f"{rel}:1: {n} lines (limit {MAX_FILE_LINES})"))
            for name, start, count in functions(text):
                longest.append((count, f"{rel}:{start}: {name}"))
                if count > MAX_FUNCTION_LINES:
                    breaches.append((f"{rel} {name}", f"{rel}:{start}: function {name} has "
                                     f"{count} lines (limit {MAX_FUNCTION_LINES})"))
    if show:
        for count, where in sorted(longest, reverse=True)[:15]:
            print(f"{count:4d} {where}")
    allowed = load_exceptions()
    failed = False
    for key, message in breaches:
        known = key in allowed
        failed |= not known
        print(message + (" (listed in size_exceptions.txt)" if known else ""))
    for key in sorted(allowed - {k for k, _ in breaches}):
        failed = True
        print(f"{key}: within the limits now; remove it from tests/layout/size_exceptions.txt")
    return failed


def self_test():
    body = "\n".join(f"  x += {i};" for i in range(70))
    long_fn = "namespace a {\nint f(int x) {\n" + body + "\n  return x;\n}\n}  // namespace a\n"
    table = ("const std::vector<Row>& rows() {\n  static const std::vector<Row> r = {\n" +
             "\n".join(f"      {{\"n{i}\", [](int v) {{ return v + {i}; }}}}," for i in range(80)) +
             "\n  };\n  return r;\n}\n")
    cls = "struct S {\n  int g() const {\n    return 1;\n  }\n};\n"
    got = {name: count for name, _, count in functions(long_fn + table + cls)}
    ok = got.get("f") == 71 and got.get("rows") == 2 and got.get("g") == 1
    print(f"self-test: {'ok' if ok else 'FAILED'} {got}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        return 0 if self_test() else 1
    failed = check(os.path.normpath(args.root), args.list)
    print("size limits:", "FAILED" if failed else "ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
