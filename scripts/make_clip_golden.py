#!/usr/bin/python3
# Writes the PyTorch golden values for Sculpt's gradient clippers: tests/golden/clip_*.json,
# compared by tests/unit/clip/clip_golden_test.cpp.
# Run from anywhere with Debian's python3-torch (plain python3 has no torch):
#     /usr/bin/python3 scripts/make_clip_golden.py
# Separate from scripts/make_golden.py (which does not call it). Deterministic; takes a second.
"""Golden values for Sculpt's clippers, from torch.nn.utils.clip_grad_value_ and
torch.nn.utils.clip_grad_norm_ (1.13).

Gradients are drawn with a fixed seed, rounded to 6 significant digits and then to float32 (as
scripts/make_golden.py does), so the C++ side sees exactly the numbers torch used; torch then
clips them in float64. Each file holds one case, on one line:

  {"kind":"clip", "case":"<case>",
   "torch": the call as Python text ("params" are the tensors below, in order),
   "toml": a Sculpt recipe [clip] table describing the same rule,
   "tensors": [{"name", "shape", "grad"}, ...]   (flat row-major lists),
   "after": [[...], ...]                          the gradients after torch's call, per tensor,
   "norm_l2": the L2 norm of all gradients before clipping (float64),
   "changed": [per tensor: how many elements torch changed],
   "clipped": true when torch changed any gradient}

Per-tensor cases ("norm") call clip_grad_norm_ once per parameter, which is what Sculpt's
`norm` rule is. The shapes mimic a small MLP: weights [out, in] and biases [out].
"""

import json
import os

import peer_deps  # noqa: F401  (installs torch and NumPy when missing)
import torch

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")
PREFIX = "clip_"
IN_DIGITS = 6     # significant digits of inputs (then rounded to float32)
OUT_DIGITS = 12   # significant digits of float64 references

SHAPES = [("fc1.weight", [5, 4]), ("fc1.bias", [5]), ("fc2.weight", [3, 5]), ("fc2.bias", [3])]


def exact_f32(values):
    """Rounds to IN_DIGITS significant digits, then to float32; returns float64 holding it."""
    vals = [float(f"{v:.{IN_DIGITS}g}") for v in values.reshape(-1).tolist()]
    return torch.tensor(vals, dtype=torch.float32).reshape(values.shape).double()


def grads(seed, scales):
    """One gradient per SHAPES entry, uniform in (-scale, scale), float32-exact."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for (_, shape), scale in zip(SHAPES, scales):
        out.append(exact_f32((torch.rand(*shape, generator=gen, dtype=torch.float64) * 2 - 1) * scale))
    return out


def flat_in(t):
    return [float(f"{v:.{IN_DIGITS}g}") for v in t.reshape(-1).tolist()]


def flat_out(t):
    return [float(f"{v:.{OUT_DIGITS}g}") for v in t.reshape(-1).tolist()]


def toml_value(v):
    return f'"{v}"' if isinstance(v, str) else repr(v)


def case(name, sculpt, options, torch_text, call, gs):
    """Runs `call(params)` on float64 parameters holding the gradients `gs`; writes the file."""
    params = []
    for g in gs:
        p = torch.zeros_like(g, requires_grad=True)
        p.grad = g.clone()
        params.append(p)
    call(params)
    after = [p.grad for p in params]
    toml = f'[clip]\nname = "{sculpt}"\n' + "".join(f"{k} = {toml_value(v)}\n"
                                                    for k, v in options.items())
    obj = {
        "kind": "clip", "case": name, "torch": torch_text, "toml": toml,
        "tensors": [{"name": n, "shape": s, "grad": flat_in(g)} for (n, s), g in zip(SHAPES, gs)],
        "after": [flat_out(a) for a in after],
        "norm_l2": float(torch.cat([g.reshape(-1) for g in gs]).norm(2)),
        "changed": [int((a != g).sum()) for a, g in zip(after, gs)],
        "clipped": any(not torch.equal(a, g) for a, g in zip(after, gs)),
    }
    with open(os.path.join(OUT_DIR, PREFIX + name + ".json"), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    return obj


def value_case(name, gs, c):
    return case(name, "value", {"max_value": c}, f"clip_grad_value_(params, {c})",
                lambda ps: torch.nn.utils.clip_grad_value_(ps, c), gs)


def global_case(name, gs, max_norm, norm_type):
    opts = {"max_norm": max_norm, "norm_type": norm_type}
    nt = float("inf") if norm_type == "inf" else 2.0
    return case(name, "global-norm", opts,
                f"clip_grad_norm_(params, {max_norm}, norm_type={nt!r})",
                lambda ps: torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type=nt), gs)


def per_tensor_case(name, gs, max_norm, norm_type):
    opts = {"max_norm": max_norm, "norm_type": norm_type}
    nt = float("inf") if norm_type == "inf" else 2.0

    def call(ps):
        for p in ps:
            torch.nn.utils.clip_grad_norm_([p], max_norm, norm_type=nt)

    return case(name, "norm", opts,
                f"for p in params: clip_grad_norm_([p], {max_norm}, norm_type={nt!r})", call, gs)


def main():
    mixed = grads(1, [1.0, 0.05, 2.0, 0.01])  # some tensors above 0.5 in norm, some below
    plain = grads(2, [1.0, 1.0, 1.0, 1.0])
    huge = grads(3, [1e20, 1e18, 3e19, 1e15])  # float32 squares would overflow; double does not
    tiny = grads(4, [1e-6, 1e-7, 2e-6, 1e-8])  # norms near torch's 1e-6: the eps term matters
    written = [
        value_case("value", plain, 0.5),
        value_case("value_below", plain, 10.0),
        value_case("value_huge", huge, 2.5),
        global_case("global_l2", plain, 1.0, "2"),
        global_case("global_inf", plain, 0.5, "inf"),
        global_case("global_below", plain, 100.0, "2"),
        global_case("global_huge", huge, 1.0, "2"),
        global_case("global_huge_inf", huge, 3.0, "inf"),
        global_case("global_tiny", tiny, 1e-6, "2"),
        per_tensor_case("norm_l2", mixed, 0.5, "2"),
        per_tensor_case("norm_inf", mixed, 0.3, "inf"),
        per_tensor_case("norm_below", mixed, 50.0, "2"),
        per_tensor_case("norm_huge", huge, 2.0, "2"),
        per_tensor_case("norm_tiny", tiny, 1e-6, "2"),
    ]
    for obj in written:
        assert obj["clipped"] == (not obj["case"].endswith("below")), obj["case"]
    print(f"wrote {len(written)} files {PREFIX}*.json to {os.path.normpath(OUT_DIR)}")


if __name__ == "__main__":
    main()
