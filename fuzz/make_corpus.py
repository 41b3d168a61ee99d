#!/usr/bin/env python3
"""Writes the fuzz seed corpora (fuzz/corpus/<target>/) and the hostile inputs of
tests/data/bad/<kind>/. Valid seeds come from our own writers: a tiny CSV run trained, pruned and
exported by the given sculpt binary; the hostile files are those valid ones broken on purpose.

Usage: fuzz/make_corpus.py build/release/sculpt
"""
import gzip
import json
import pathlib
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"
BAD = ROOT / "tests" / "data" / "bad"


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def tiny_csv():
    rnd = random.Random(1)
    rows = ["x1,x2,x3,label"]
    for i in range(40):
        y = i % 2
        rows.append(f"{rnd.gauss(y, .5):.3f},{rnd.gauss(-y, .5):.3f},{rnd.random():.3f},{y}")
    return "\n".join(rows) + "\n"


TINY_RECIPE = """[data]
source = "csv"
path = "{csv}"
target = "label"
[model]
name = "custom"
[[model.layers]]
type = "linear"
out = 4
[[model.layers]]
type = "relu"
[[model.layers]]
type = "linear"
out = 1
[optim]
name = "adam"
lr = 0.01
[train]
epochs = 2
batch_size = 8
[output]
dir = "{runs}"
name = "tiny"
"""


# A character LSTM on a few lines of text: the export with a vocabulary.
TEXT_RECIPE = """[data]
source = "text"
path = "{text}"
steps = 8
[[model.layers]]
type = "embedding"
dim = 4
[[model.layers]]
type = "lstm"
hidden = 6
[[model.layers]]
type = "linear"
out = 0
[train]
epochs = 1
batch_size = 8
[output]
dir = "{runs}"
name = "text"
"""


def train_and_export(sculpt, work):
    csv = work / "tiny.csv"
    write(csv, tiny_csv())
    recipe = work / "tiny.toml"
    write(recipe, TINY_RECIPE.format(csv=csv, runs=work / "runs"))
    run = lambda *a: subprocess.run([sculpt, *map(str, a)], check=True, capture_output=True)
    run("train", "-q", "--recipe", recipe)
    rundir = next((work / "runs").iterdir())
    run("prune", "-c", rundir, "--sparsity", "0.5", "--out", work / "pruned")
    run("export", "-c", rundir, "-o", work / "dense.sculpt", "--format", "dense")
    run("export", "-c", rundir, "-o", work / "csr-fp16.sculpt", "--format", "sparse", "--fp16")
    run("export", "-c", work / "pruned", "-o", work / "bitmask.sculpt")
    write(work / "text.txt", "the cat sat on the mat, the dog sat on the log. " * 20)
    write(work / "text.toml", TEXT_RECIPE.format(text=work / "text.txt", runs=work / "text-runs"))
    run("train", "-q", "--recipe", work / "text.toml")
    run("export", "-c", next((work / "text-runs").iterdir()), "-o", work / "text.sculpt")
    return {
        "checkpoint": (rundir / "checkpoints" / "last.safetensors").read_bytes(),
        "pruned": (work / "pruned" / "checkpoints" / "last.safetensors").read_bytes(),
        "dense": (work / "dense.sculpt").read_bytes(),
        "csr": (work / "csr-fp16.sculpt").read_bytes(),
        "bitmask": (work / "bitmask.sculpt").read_bytes(),
        "text": (work / "text.sculpt").read_bytes(),
    }


def safetensors(header, data=b"", compact=False):
    text = json.dumps(header, separators=(",", ":") if compact else None).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + data


def sculpt_checkpoint(header, data=b"", **meta_values):
    """A checkpoint as Sculpt writes it (format version 3): compact JSON, and the crc32 of the
    whole file with its own value read as 00000000 (docs/formats.md). `meta_values` replace
    metadata values (format, version) before the checksum is computed."""
    h = json.loads(json.dumps(header))
    meta = h.setdefault("__metadata__", {})
    meta.update({"format": "sculpt-checkpoint", "version": "3", **meta_values, "crc32": "00000000"})
    b = safetensors(h, data, compact=True)
    field = b.index(b'"crc32":"00000000"') + len(b'"crc32":"')
    return b[:field] + b"%08x" % zlib.crc32(b) + b[field + 8:]


def split_safetensors(b):
    n = struct.unpack("<Q", b[:8])[0]
    return json.loads(b[8:8 + n]), b[8 + n:]


def with_crc(b):
    return b + struct.pack("<I", zlib.crc32(b))


def export_parts(b):
    n = struct.unpack("<I", b[12:16])[0]
    return json.loads(b[16:16 + n]), b[16 + n:-4]


def export_bytes(header, data, version=1):
    text = json.dumps(header).encode()
    return with_crc(b"SCULPTMD" + struct.pack("<II", version, len(text)) + text + data)


def idx_files():
    images = idx(0x803, [3, 2, 2], bytes(range(12)))
    labels = idx(0x801, [3], bytes([0, 1, 2]))
    seeds = {"images": images, "labels": labels, "images.gz": gzip.compress(images, mtime=0),
             "labels.gz": gzip.compress(labels, mtime=0)}
    bad = {  # replace train-images (images-*) or train-labels (labels-*) of a good dataset
        "images-truncated.idx": idx(0x803, [60, 28, 28], bytes(1000)),
        "images-wrong-magic.idx": idx(0x1234, [60, 28, 28], bytes(16)),
        "images-huge-dims.idx": idx(0x803, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], bytes(64)),
        "images-huge-gzip.idx.gz": gzip.compress(idx(0x803, [1000, 1000, 1000], bytes(4096)),
                                                 mtime=0),
        "images-corrupt-gzip.idx.gz": gzip.compress(idx(0x803, [60, 28, 28], bytes(60 * 784)),
                                                    mtime=0)[:40] + b"\xff" * 64,
        "images-empty.idx": b"",
        "labels-out-of-range.idx": idx(0x801, [60], bytes([200] * 60)),
        "labels-swapped.idx": idx(0x803, [60, 28, 28], bytes(16)),
    }
    return seeds, bad


def csv_files():
    good = tiny_csv()
    seeds = {"tiny.csv": "\n".join(good.splitlines()[:8]) + "\n",
             "no-header.csv": "1,2,0\n3,4,1\n5,6,2\n",
             "regression.csv": "a,b,y\n0.5,1e-3,2.25\n-1,+2,-0.5\n",
             "crlf-bom.csv": "\ufeffa,\"b\",t\r\n1,2,1\r\n\r\n3,4,0\r\n"}
    bad = {"nan.csv": "a,b,label\n1,2,0\nnan,6,1\n",
           "inf.csv": "a,b,label\n1,2,0\n1e999,6,1\n",
           "text-cell.csv": "a,b,label\n1,2,0\n3,x7,1\n",
           "ragged.csv": "a,b,label\n1,2,0\n3,4\n",
           "empty.csv": "",
           "header-only.csv": "a,b,label\n",
           "one-column.csv": "label\n0\n1\n",
           "binary-garbage.csv": bytes(range(256)),
           "no-target-column.csv": "a,b,c\n1,2,0\n3,4,1\n"}
    return seeds, bad


def recipe_files():
    seeds = {p.name: p.read_text() for p in sorted((ROOT / "recipes").glob("*.toml"))}
    seeds["custom-layers.toml"] = TINY_RECIPE.format(csv="tiny.csv", runs="runs")
    bad = {"unknown-key.toml": "[optim]\nlrr = 0.1\n",
           "unknown-table.toml": "[optimiser]\nlr = 0.1\n",
           "wrong-type.toml": "[optim]\nlr = \"fast\"\n",
           "nan-lr.toml": "[optim]\nlr = nan\n",
           "inf-epochs.toml": "[train]\nepochs = inf\n",
           "huge-integer.toml": "[train]\nepochs = 99999999999999999999\n",
           "negative-batch.toml": "[train]\nbatch_size = -1\n",
           "not-toml.toml": "[optim\nlr = = 1\n",
           "truncated.toml": "[data]\nsource = \"synth",
           "binary-garbage.toml": bytes(range(256))}
    return seeds, bad


def checkpoint_files(ck, pruned):
    header, data = split_safetensors(ck)
    first = next(k for k in header if k != "__metadata__")
    bad = {"truncated.safetensors": ck[: len(ck) - 10],
           "header-length-huge.safetensors": struct.pack("<Q", 2**62) + ck[8:],
           "not-json.safetensors": struct.pack("<Q", 8) + b"{nope!!}",
           "empty.safetensors": b""}
    h = json.loads(json.dumps(header))
    h[first]["dtype"] = "F64"
    bad["wrong-dtype.safetensors"] = safetensors(h, data)
    h = json.loads(json.dumps(header))
    h[first]["shape"] = [2**40, 2**40]
    bad["huge-shape.safetensors"] = safetensors(h, data)
    h = json.loads(json.dumps(header))
    h[first]["data_offsets"] = [0, 2**63]
    bad["offsets-past-end.safetensors"] = safetensors(h, data)
    h = json.loads(json.dumps(header))
    h[first]["shape"] = "3x4"
    bad["shape-wrong-type.safetensors"] = safetensors(h, data)
    nan = bytearray(ck)
    nan[-4:] = struct.pack("<f", float("nan"))
    bad["nan-value.safetensors"] = bytes(nan)
    flipped = bytearray(ck)
    flipped[-1] ^= 0x40
    bad["damaged-data.safetensors"] = bytes(flipped)
    h = json.loads(json.dumps(header))
    h["__metadata__"]["recipe"] = "[optim]\nlrr = 1\n"
    bad["bad-recipe-metadata.safetensors"] = sculpt_checkpoint(h, data)
    # The recipe changed after writing: the checksum covers the metadata.
    changed = ck.replace(b"epochs = 2", b"epochs = 9")
    assert changed != ck
    bad["changed-recipe.safetensors"] = changed
    h = json.loads(json.dumps(header))
    del h["__metadata__"]["crc32"]
    bad["no-checksum.safetensors"] = safetensors(h, data, compact=True)
    bad["other-format.safetensors"] = sculpt_checkpoint(header, data, format="pytorch")
    bad["newer-version.safetensors"] = sculpt_checkpoint(header, data, version="4")
    # A stored recipe declaring a layer of 2,000,000 units: refused before any allocation.
    h = json.loads(json.dumps(header))
    h["__metadata__"]["recipe"] = h["__metadata__"]["recipe"].replace("out = 4", "out = 2000000")
    assert "out = 2000000" in h["__metadata__"]["recipe"]
    bad["huge-layer-recipe.safetensors"] = sculpt_checkpoint(h, data)
    seeds = {"checkpoint.safetensors": ck, "pruned.safetensors": pruned,
             "empty-tensors.safetensors": safetensors({"__metadata__": {"a": "b"}})}
    seeds.update({k: bad[k] for k in ("huge-shape.safetensors", "offsets-past-end.safetensors")})
    return seeds, bad


def damaged_vocabulary(text):
    """The text model's export with its vocabulary's symbols out of order (a valid checksum)."""
    header, data = export_parts(text)
    header["vocabulary"]["symbols"] = header["vocabulary"]["symbols"][::-1]
    return export_bytes(header, data)


def export_files(dense, csr, bitmask, text):
    header, data = export_parts(dense)
    bad = {"truncated.sculpt": dense[: len(dense) // 2],
           "wrong-magic.sculpt": b"SCULPTXX" + dense[8:],
           "newer-version.sculpt": export_bytes(header, data, version=2),
           "header-length-huge.sculpt": dense[:12] + struct.pack("<I", 0xFFFFFFF0) + dense[16:],
           "damaged.sculpt": dense[:-8] + bytes(4) + dense[-4:],
           "checkpoint-given.sculpt": safetensors({"__metadata__": {"a": "b"}})}
    nan = bytearray(data)
    nan[0:4] = struct.pack("<f", float("nan"))
    bad["nan-value.sculpt"] = export_bytes(header, bytes(nan))
    h = json.loads(json.dumps(header))
    h["tensors"][0]["shape"] = [2**20, 2**20]
    bad["huge-shape.sculpt"] = export_bytes(h, data)
    h = json.loads(json.dumps(header))
    h["tensors"][0]["nnz"] = "many"
    bad["wrong-type.sculpt"] = export_bytes(h, data)
    h = json.loads(json.dumps(header))
    h["layers"][0]["type"] = "convolution9d"
    bad["unknown-layer.sculpt"] = export_bytes(h, data)
    h = json.loads(json.dumps(header))
    h["surprise"] = 1
    h["data_bytes"] = 1e300
    bad["float-size.sculpt"] = export_bytes(h, data)
    bad["vocabulary.sculpt"] = damaged_vocabulary(text)
    seeds = {"dense.sculpt": dense, "csr-fp16.sculpt": csr, "bitmask.sculpt": bitmask,
             "text-lstm.sculpt": text}
    seeds.update({k: bad[k] for k in ("newer-version.sculpt", "huge-shape.sculpt")})
    return seeds, bad


def model_export_files(dense, csr, bitmask, text):
    """Headers of exports (the JSON the model is built from), and a few layer lists more."""
    seeds = {name + ".json": json.dumps(export_parts(b)[0]).encode()
             for name, b in (("dense", dense), ("csr-fp16", csr), ("bitmask", bitmask),
                             ("text-lstm", text))}
    base = {"format": "sculpt-model", "version": 1, "task": "classification",
            "normalize": {"mean": 0.25, "std": 0.5}, "input_format": "idx", "info": {},
            "tensors": [], "data_bytes": 0}
    layer = lambda t, name, **args: {"type": t, "name": name, "args": args}
    seeds["conv.json"] = json.dumps({**base, "input": [1, 9, 9], "outputs": 3, "layers": [
        layer("conv2d", "conv1", out=2, kernel=3, padding=1), layer("relu", "relu1"),
        layer("maxpool2d", "pool1", kernel=2), layer("conv2d", "conv2", out=3, kernel=2, stride=2),
        layer("avgpool2d", "pool2", kernel=2), layer("flatten", "flatten1"),
        layer("dropout", "drop1", p=0.2), layer("linear", "fc1", out=3)]}).encode()
    seeds["mlp-tanh.json"] = json.dumps({**base, "input": [6], "outputs": 1, "task": "binary",
                                         "layers": [layer("linear", "fc1", out=5),
                                                    layer("tanh", "tanh1"),
                                                    layer("sigmoid", "sig1"),
                                                    layer("linear", "fc2", out=1)]}).encode()
    bad = {"huge-layer.json": json.dumps({**base, "input": [784], "outputs": 1, "layers": [
               layer("linear", "fc1", out=2000000), layer("linear", "fc2", out=1)]}).encode(),
           "huge-activations.json": json.dumps({**base, "input": [3, 2000, 2000], "outputs": 1,
               "layers": [layer("conv2d", "c", out=64, kernel=1), layer("flatten", "f"),
                          layer("linear", "fc", out=1)]}).encode(),
           "same-names.json": json.dumps({**base, "input": [4], "outputs": 2, "layers": [
               layer("linear", "fc", out=3), layer("linear", "fc", out=2)]}).encode()}
    return seeds, bad


def model_recipe_files(ck):
    """Recipes as checkpoints store them (resolved, every key), and the recipes/ examples."""
    seeds = {p.name: p.read_text() for p in sorted((ROOT / "recipes").glob("*.toml"))}
    seeds["stored.toml"] = split_safetensors(ck)[0]["__metadata__"]["recipe"]
    seeds["custom-layers.toml"] = TINY_RECIPE.format(csv="tiny.csv", runs="runs")
    seeds["dropout-pool.toml"] = """[data]
source = "idx"
[[model.layers]]
type = "conv2d"
out = 2
kernel = 5
stride = 3
[[model.layers]]
type = "avgpool2d"
kernel = 2
[[model.layers]]
type = "flatten"
[[model.layers]]
type = "dropout"
p = 0.5
[[model.layers]]
type = "linear"
out = 10
[train]
batch_size = 4
eval_batch_size = 8
"""
    huge = TINY_RECIPE.format(csv="tiny.csv", runs="runs").replace("out = 4", "out = 2000000")
    bad = {"huge-layer.toml": huge.replace('source = "csv"', 'source = "fashion-mnist"'),
           "huge-batch.toml": huge.replace("out = 2000000", "out = 200000").replace(
               "batch_size = 8", "batch_size = 4000000"),
           "deep-dotted.toml": "[" + ".".join(["a"] * 1000) + "]\n",
           "threads.toml": "[train]\nthreads = 100000\n"}
    return seeds, bad


def store(kind, seeds, bad, bad_tests=True):
    """Seeds and bad- seeds in fuzz/corpus/<kind>/; the bad ones also in tests/data/bad/<kind>/
    (which BadInput.EveryHostileFileGivesOneClearErrorLine runs) when bad_tests."""
    # found-* seeds are inputs a fuzzing run found (kept by hand, with their regression test).
    for d in (CORPUS / kind, BAD / kind):
        for f in d.glob("*") if d.is_dir() else []:
            if not f.name.startswith("found-"):
                f.unlink()
    for name, b in seeds.items():
        write(CORPUS / kind / name, b)
    for name, b in bad.items():
        write(CORPUS / kind / ("bad-" + name), b)
        if bad_tests:
            write(BAD / kind / name, b)


def main():
    sculpt = pathlib.Path(sys.argv[1]).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        made = train_and_export(sculpt, pathlib.Path(tmp))
    store("idx", *idx_files())
    store("csv", *csv_files())
    store("recipe", *recipe_files())
    store("checkpoint", *checkpoint_files(made["checkpoint"], made["pruned"]))
    exports = (made["dense"], made["csr"], made["bitmask"], made["text"])
    store("export", *export_files(*exports))
    # Model targets: seeds only (their hostile inputs are tested through the files above).
    store("model_export", *model_export_files(*exports), bad_tests=False)
    store("model_recipe", *model_recipe_files(made["checkpoint"]), bad_tests=False)


if __name__ == "__main__":
    main()
