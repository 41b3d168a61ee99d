#!/usr/bin/python3
# The PyTorch peer of ./bench/run: the same workloads as Sculpt's `sculpt bench CASE`, written the
# way a PyTorch user would (see /work/shared/design/PEERS.md and docs/benchmarks.md).
# Usage: /usr/bin/python3 bench/peer_torch.py CASE --threads 2 --reps 3 --json [--foreach]
#        [--limit N] [--batch B] [--text PATH]
#        [--mode inference|no-grad|jit-freeze|jit-optimize]
#        [--weights dense|csr|csr32|csr-parts-i16] [--model EXPORT] [--legacy-format]
"""PyTorch peer for Sculpt's benchmarks.

train-mlp     model A: MLP 784-300-100-10, SGD lr 0.1 momentum 0.9 Nesterov wd 5e-4, batch 128
              (--batch), cross-entropy, Fashion-MNIST train set (60,000), shuffled each epoch.
train-mlp-wide 784-4096-4096-10 (ReLU), the same optimizer, the first 6,400 training images (as
              `sculpt bench`: kWideSamples).
train-lenet5  model B: LeNet-5 (conv 1->6 k5 p2, relu, maxpool 2; conv 6->16 k5, relu, maxpool 2;
              flatten 400; 400->120 relu; 120->84 relu; 84->10), same optimizer with lr 0.05
              (as `sculpt bench`), same batch.
train-cnn     the seed CNN of recipes/cnn.toml: conv 1->32 k3, relu; conv 32->64 k3, relu;
              maxpool 2; flatten 9216; 9216->100 relu; 100->10; SGD lr 0.05 (as `sculpt bench`),
              the first 6,400 training images. --channels-last as for train-resnet.
train-resnet  resnet-small: conv 1->32 k3 p1, maxpool 2; three pre-activation residual blocks
              (BatchNorm2d, ReLU, conv 3x3; BatchNorm2d, ReLU, conv 3x3; plus the input, or a
              1x1 conv of the first ReLU's output when the block changes width or stride) of
              32, 64 and 128 channels; BatchNorm2d, ReLU, global average pool, 128->10; SGD lr
              0.1, the first 12,800 training images (as `sculpt bench`). --channels-last runs
              it in torch.channels_last memory format (oneDNN's preferred layout for convs).
train-lstm    the character LSTM of recipes/char-lstm.toml: nn.Embedding(V, 64) ->
              nn.LSTM(64, 256, num_layers=2, dropout=0.2, batch_first=True) (torch's fused
              module, which is Sculpt's two LSTM layers with a dropout layer between) ->
              nn.Linear(256, V), cross-entropy over every position, torch.optim.Adam(lr=2e-3),
              torch.nn.utils.clip_grad_norm_(params, 1.0) every step, batch 64. The text is
              read as Sculpt reads it (src/data/text.cpp, load_text_windows): the files of
              --text (default /usr/share/games/fortunes, without fortune's .dat and .u8 files)
              concatenated in name order, V the distinct code points (sorted), the last 5% test
              and the 5% before it validation, the rest cut into windows of 100 characters,
              stride 100, the labels the next character at every position; an epoch is the first
              1,280 training windows (--limit; 20 steps, as `sculpt bench`). The state starts
              at zero every batch (no carried state, as Sculpt's bench). A sample is one window:
              the JSON adds tokens_per_s (samples/s x 100) and the last epoch's mean training
              loss (train_loss), which ./bench/run sets beside Sculpt's.

One warm-up epoch, then each rep is one full epoch timed end to end (batch gather, forward,
loss, backward, clipping for train-lstm, optimizer step). Prints one JSON line: the per-rep
samples/s and their median.

optim-adam          workload E: one torch.optim.Adam(lr=1e-3) step over model A's parameters
                    (nn.Parameters of the same shapes, 266,610 floats), gradients set once.
optim-sgd-nesterov  the same with torch.optim.SGD(lr=0.01, momentum=0.9, nesterov=True,
                    weight_decay=5e-4).
                    0.3 s of warm-up steps, then each rep times 0.5 s of opt.step(); prints
                    the median microseconds per step. torch 1.13 defaults to the single-tensor
                    (for-loop) implementation on CPU (foreach=None means False); --foreach
                    selects the multi-tensor one.

clip-global-norm    workload E, clipping: torch.nn.utils.clip_grad_norm_(params, 1.0) over model
                    A's parameters with the gradients of optim-* (global norm about 5.2, so the
                    gradients are scaled every call). The gradients are restored with
                    p.grad.copy_ before each call, outside the timed region (as Sculpt does);
                    0.3 s of warm-up calls, then each rep sums the time of the calls alone over
                    0.5 s; prints the median microseconds per call. torch 1.13's clip_grad_norm_
                    has one implementation (a norm per tensor, stack, norm, a mul_ per tensor);
                    --foreach runs the multi-tensor form later torch versions use by default
                    (torch._foreach_norm, then torch._foreach_mul_ by the clamped coefficient).

infer-mlp-b1        workload D: inference of model A (PyTorch's default initialisation,
infer-mlp-b256      torch.manual_seed(7)), model.eval(), on one batch of 1 or 256 samples
                    torch.rand(B, 1, 28, 28). --mode picks how a user would run it:
                    inference (torch.inference_mode(), the default), no-grad (torch.no_grad()),
                    jit-freeze (torch.jit.trace + torch.jit.freeze, called under no_grad),
                    jit-optimize (torch.jit.optimize_for_inference of the trace: frozen, then
                    convolutions on oneDNN tensors and Linear as matmul by a pre-transposed
                    weight; called under no_grad).
                    0.3 s of warm-up calls, then each rep times 0.5 s of calls (in groups of 8);
                    prints the median samples/s (and microseconds per batch).
infer-sparse95-b1   the same model with 95% of each weight matrix zeroed by
infer-sparse95-b256 torch.nn.utils.prune.l1_unstructured(amount=0.95) per layer, then
                    prune.remove (the smallest magnitudes; 13,310 of 266,200 weights kept, biases
                    dense). --weights dense runs it as an ordinary nn.Linear model (what a user
                    ships); --weights csr stores each weight as weight.to_sparse_csr() and
                    computes torch.sparse.addmm(bias[:, None], W_csr, x.T).T (torch 1.13's CSR x
                    dense product on CPU; F.linear with a CSR weight raises "Cannot set
                    version_counter for inference tensor" under inference_mode in 1.13, and
                    under no_grad it is no faster than addmm).
infer-trained95-b1  the same timing on a trained and pruned model read from Sculpt's export
infer-trained95-b256 (--model FILE, bench/sculpt_export.py): the weights Sculpt runs, as an
infer-lenet90-b1    nn.Sequential built from the export's layer list (./bench/run trains them:
infer-lenet90-b256  the MLP of recipes/prune-gradual.toml at 95%, LeNet-5 at 90%). The input
                    standardisation of the export is part of the model (folded into the first
                    Linear when only a flatten precedes it, else one elementwise op); the batch
                    is the first B Fashion-MNIST test images; the output adds the model's test
                    accuracy on the 10,000 test images (--data-dir), which ./bench/run checks
                    against Sculpt's. --weights csr makes the Linear layers CSR as above
                    (convolutions stay dense).
infer-lstm-b1       one generated token of the character LSTM of recipes/char-lstm.toml
infer-lstm80-b1     (nn.Embedding(113, 64), nn.LSTM(64, 256, num_layers=2, dropout=0.2),
                    nn.Linear(256, 113); default init, seed 7, eval): model(token, h, c) with the
                    state the last call returned, one token a call; infer-lstm80-b1 with 80% of
                    every gate matrix and the output weight pruned by L1 magnitude (the LSTM
                    still runs dense: torch has no sparse LSTM). --mode as above (the traced
                    step for jit-*); prints the median tokens/s as samples/s.
export-size-95      the bytes of torch.save(model.state_dict()) of the 95% model; --weights picks
                    how the three weight matrices are stored: dense (what a PyTorch user ships),
                    csr (CSR tensors, int64 indices, which torch.save supports), csr32 (CSR
                    tensors with int32 indices) or csr-parts-i16 (the CSR parts as plain tensors:
                    int32 row pointers, int16 column indices, the values; the index widths of
                    Sculpt's own CSR encoding, loaded back by hand). --legacy-format writes
                    torch.save's older non-zip format (_use_new_zipfile_serialization=False),
                    which has no per-record zip headers. Prints {"bytes": N}.
export-size-95-fp16 the same with every value in half precision (state_dict values .half()),
                    against `sculpt export --fp16`.
"""

import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

from peer_torch_lstm import TEXT_PATH, run_lstm, train_record  # the character LSTM's half

from peer_torch_infer import (INFER_CASES, INFER_MODES, SIZE_CASES, WEIGHT_FORMS,
                              run_infer, run_size)
from peer_torch_step import CLIP_CASES, OPTIM_CASES, run_clip, run_optim  # workload E

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530
BATCH = 128


def read_idx(path):
    """Reads a gzipped IDX file (big-endian header: magic, dims) into a numpy array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_train(data_dir):
    images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(((images.astype(np.float32) / 255.0 - MEAN) / STD).astype(np.float32))
    return x.reshape(-1, 1, 28, 28).contiguous(), torch.from_numpy(labels.astype(np.int64))


def model_a():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def model_a_wide():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 4096), nn.ReLU(), nn.Linear(4096, 4096),
                         nn.ReLU(), nn.Linear(4096, 10))


def model_b():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


class PreActBlock(nn.Module):
    """The block of Sculpt's resnet-small (src/nn/model_spec.cpp, residual_block)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.short = (nn.Conv2d(cin, cout, 1, stride=stride)
                      if stride != 1 or cin != cout else None)

    def forward(self, x):
        a = torch.relu(self.bn1(x))
        y = self.conv2(torch.relu(self.bn2(self.conv1(a))))
        return y + (self.short(a) if self.short is not None else x)


def model_seed_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(9216, 100), nn.ReLU(), nn.Linear(100, 10))


def model_c():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), PreActBlock(32, 32, 1),
        PreActBlock(32, 64, 2), PreActBlock(64, 128, 2), nn.BatchNorm2d(128), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))


CASES = {"train-mlp": model_a, "train-mlp-wide": model_a_wide, "train-lenet5": model_b,
         "train-cnn": model_seed_cnn, "train-resnet": model_c,
         # Mixed precision: the same models under torch.autocast("cpu", dtype=torch.bfloat16).
         "train-mlp-bf16": model_a, "train-lenet5-bf16": model_b}
TEXT_CASES = ("train-lstm",)
# The same SGD as `sculpt bench` (src/cli/cmd_bench.cpp): lr 0.1, LeNet-5 0.05.
LR = {"train-mlp": 0.1, "train-mlp-wide": 0.1, "train-lenet5": 0.05, "train-cnn": 0.05,
      "train-resnet": 0.1, "train-mlp-bf16": 0.1, "train-lenet5-bf16": 0.05}
# Training images an epoch when --limit is not given (`sculpt bench`: kResnetSamples,
# kWideSamples, kCnnSamples; train-lstm: peer_torch_lstm.LSTM_WINDOWS).
DEFAULT_LIMIT = {"train-resnet": 12800, "train-mlp-wide": 6400, "train-cnn": 6400}


def run_epoch(model, opt, loss_fn, x, y, batch, bf16=False):
    """One shuffled epoch; returns its mean training loss per sample (as Sculpt's epoch line),
    summed as a tensor so that no step waits for it. bf16: forward and loss under
    torch.autocast("cpu", dtype=torch.bfloat16), the mixed precision PyTorch documents."""
    perm = torch.randperm(x.shape[0])
    total = torch.zeros(())
    for start in range(0, x.shape[0], batch):
        idx = perm[start:start + batch]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        total += loss.detach() * idx.shape[0]
    return total.item() / x.shape[0]


def blas_in_use():
    """Names the BLAS this process has mapped (after a matmul ran): "<dir>/<real file name>"."""
    try:
        with open("/proc/self/maps") as f:
            paths = {os.path.realpath(line.split()[-1]) for line in f
                     if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    blas = sorted(p for p in paths if "lapack" not in os.path.basename(p))
    return ",".join(os.path.join(os.path.basename(os.path.dirname(p)), os.path.basename(p))
                    for p in blas) or "none"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("case", choices=sorted(CASES) + list(TEXT_CASES) + list(OPTIM_CASES) +
                    list(CLIP_CASES) + list(INFER_CASES) + list(SIZE_CASES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=3, help="measured epochs (after one warm-up)")
    ap.add_argument("--json", action="store_true", help="print one JSON line (default: text)")
    ap.add_argument("--limit", type=int, default=0,
                    help="use only the first N training samples (smoke tests; 0 = all 60,000, "
                         "train-resnet 12,800, train-mlp-wide and train-cnn 6,400; "
                         "train-lstm: windows, 0 = 1,280)")
    ap.add_argument("--batch", type=int, default=BATCH,
                    help="train-* on images: the batch (default 128, as `sculpt bench`)")
    ap.add_argument("--data-dir", default=DATA_DIR)
    ap.add_argument("--text", default=TEXT_PATH,
                    help="train-lstm: the text file or directory (as Sculpt's data.path)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--channels-last", action="store_true",
                    help="train-*: model and batches in torch.channels_last memory format")
    ap.add_argument("--foreach", action="store_true",
                    help="optim-*, clip-*: the multi-tensor implementation (default: torch's "
                         "default)")
    ap.add_argument("--mode", choices=INFER_MODES, default="inference",
                    help="infer-*: inference (torch.inference_mode), no-grad (torch.no_grad), "
                         "jit-freeze (torch.jit.trace + freeze) or jit-optimize "
                         "(torch.jit.optimize_for_inference of the trace)")
    ap.add_argument("--weights", choices=WEIGHT_FORMS, default="dense",
                    help="infer-sparse95-*, infer-trained95-*, infer-lenet90-*: dense or csr "
                         "(CSR tensors); export-size-*: also csr32 and csr-parts-i16 (see above)")
    ap.add_argument("--model", default="",
                    help="infer-trained95-*, infer-lenet90-*: the `sculpt export` file to run")
    ap.add_argument("--legacy-format", action="store_true",
                    help="export-size-*: torch.save's legacy (non-zip) serialization")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    if args.case in OPTIM_CASES:
        run_optim(args)
        return
    if args.case in CLIP_CASES:
        run_clip(args)
        return
    if args.case in INFER_CASES:
        run_infer(args)
        return
    if args.case in SIZE_CASES:
        run_size(args)
        return
    if args.case in TEXT_CASES:
        run_lstm(args)
        return
    torch.manual_seed(args.seed)
    x, y = load_train(args.data_dir)
    limit = args.limit or DEFAULT_LIMIT.get(args.case, 0)
    if limit > 0:
        x, y = x[:limit].contiguous(), y[:limit].contiguous()
    model = CASES[args.case]()
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=LR[args.case], momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    bf16 = args.case.endswith("-bf16")
    run_epoch(model, opt, loss_fn, x, y, args.batch, bf16)  # warm-up: allocator, kernels, caches
    rates, last_loss = [], 0.0
    for _ in range(args.reps):
        t0 = time.perf_counter()
        last_loss = run_epoch(model, opt, loss_fn, x, y, args.batch, bf16)
        rates.append(x.shape[0] / (time.perf_counter() - t0))
    result = train_record(args, rates, args.batch, x.shape[0], last_loss, model)
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {result['samples_per_s']:.0f} samples/s (median of {args.reps}; "
              f"reps {result['reps']}; threads {args.threads}; blas {result['blas']})")
    if not all(np.isfinite(rates)) or not np.isfinite(last_loss):
        sys.exit(1)


if __name__ == "__main__":
    main()
