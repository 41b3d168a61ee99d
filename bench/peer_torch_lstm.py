#!/usr/bin/python3
# The character-LSTM half of the PyTorch peer (bench/peer_torch.py runs train-lstm,
# bench/peer_torch_infer.py infer-lstm-b1 and infer-lstm80-b1): recipes/char-lstm.toml's model
# as a PyTorch user writes it, trained on fortunes as Sculpt reads it, and stepped one generated
# token at a time. See docs/benchmarks.md.
import json
import os
import statistics
import sys
import time
import tomllib

import numpy as np
import torch
import torch.nn as nn

INFER_SEED = 7  # the seed `sculpt bench` initialises its inference models with


def blas_in_use():
    from peer_torch import blas_in_use as probe  # imported late: peer_torch imports this module
    return probe()


def read_char_lstm_recipe():
    """recipes/char-lstm.toml, which `sculpt bench` builds in: the peer reads its sizes from the
    same file, and stops on a recipe its CharLSTM does not model."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "recipes",
                        "char-lstm.toml")
    with open(path, "rb") as f:
        r = tomllib.load(f)
    layers = r["model"]["layers"]
    modelled = ([l["type"] for l in layers] == ["embedding", "lstm", "dropout", "lstm", "linear"]
                and layers[1]["hidden"] == layers[3]["hidden"] and layers[4].get("out") == 0
                and r["optim"]["name"] == "adam" and set(r["optim"]) == {"name", "lr"}
                and r["clip"]["name"] == "global-norm" and not r["train"].get("tbptt"))
    if not modelled:
        sys.exit(f"{path}: bench/peer_torch_lstm.py models embedding, lstm, dropout, lstm (the "
                 "same hidden), linear, Adam (lr only), global-norm clipping and no tbptt; "
                 "update it with the recipe")
    d = r["data"]
    return (d["path"], d["steps"], d["val_fraction"], d["test_fraction"], r["train"]["batch_size"],
            layers[0]["dim"], layers[1]["hidden"], layers[2]["p"], r["optim"]["lr"],
            r["clip"]["max_norm"])


(TEXT_PATH, TEXT_STEPS, TEXT_VAL, TEXT_TEST, LSTM_BATCH, LSTM_EMBED, LSTM_HIDDEN, LSTM_DROPOUT,
 LSTM_LR, LSTM_CLIP) = read_char_lstm_recipe()
LSTM_WINDOWS = 1280  # training windows an epoch without --limit (`sculpt bench`: kLstmWindows)


def train_record(args, rates, batch, samples, loss, model):
    """The JSON line of a train-* case, shared by every training peer: samples/s per rep and
    their median, the work done (samples, batch, parameters) and the last epoch's mean loss."""
    return {
        "case": args.case, "unit": "samples/s", "samples_per_s": statistics.median(rates),
        "reps": [round(r, 1) for r in rates], "threads": args.threads, "batch": batch,
        "samples": int(samples), "train_loss": round(loss, 4),
        "params": sum(p.numel() for p in model.parameters()),
        "torch": torch.__version__, "blas": blas_in_use(),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }


def load_text_windows(path, steps, val_fraction, test_fraction):
    """Sculpt's load_text (src/data/text.cpp) with a character vocabulary: the training windows
    (inputs [N, steps] and next-character labels, int64) and the vocabulary size. A directory
    is its regular files (symlinks followed) other than *.dat and *.u8, concatenated in name
    order; the vocabulary is the text's distinct code points in code-point order; the text is
    split by position into train | val | test and the train part cut into windows `steps`
    apart."""
    if os.path.isdir(path):
        files = sorted(e.path for e in os.scandir(path)
                       if e.is_file() and os.path.splitext(e.name)[1] not in (".dat", ".u8"))
    else:
        files = [path]
    raw = b"".join(open(f, "rb").read() for f in files)
    text = raw.decode("utf-8")  # strict, as Sculpt's decoder
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    chars = np.unique(cps)
    ids = np.searchsorted(chars, cps).astype(np.int64)
    total = len(ids)
    test_len, val_len = int(total * test_fraction), int(total * val_fraction)
    train_end = total - test_len - val_len
    count = (train_end - steps - 1) // steps + 1 if train_end > steps else 0
    at = np.arange(count)[:, None] * steps + np.arange(steps)[None, :]
    return torch.from_numpy(ids[at]), torch.from_numpy(ids[at + 1]), len(chars)


class CharLSTM(nn.Module):
    """recipes/char-lstm.toml as a PyTorch user writes it: the fused two-layer nn.LSTM."""

    def __init__(self, vocab):
        super().__init__()
        self.embed = nn.Embedding(vocab, LSTM_EMBED)
        self.lstm = nn.LSTM(LSTM_EMBED, LSTM_HIDDEN, num_layers=2, dropout=LSTM_DROPOUT,
                            batch_first=True)
        self.out = nn.Linear(LSTM_HIDDEN, vocab)

    def forward(self, x):
        h, _ = self.lstm(self.embed(x))
        return self.out(h)


def run_lstm_epoch(model, opt, loss_fn, x, y):
    """One shuffled epoch of train-lstm; returns the mean training loss of its steps."""
    perm = torch.randperm(x.shape[0])
    total, steps = 0.0, 0
    for start in range(0, x.shape[0], LSTM_BATCH):
        idx = perm[start:start + LSTM_BATCH]
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), LSTM_CLIP)
        opt.step()
        total += loss.item()
        steps += 1
    return total / steps


def run_lstm(args):
    """train-lstm: one warm-up epoch, then args.reps timed epochs; samples (windows) per s."""
    torch.manual_seed(args.seed)
    x, y, vocab = load_text_windows(args.text, TEXT_STEPS, TEXT_VAL, TEXT_TEST)
    limit = args.limit or LSTM_WINDOWS
    x, y = x[:limit].contiguous(), y[:limit].contiguous()
    model = CharLSTM(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=LSTM_LR)
    loss_fn = nn.CrossEntropyLoss()
    run_lstm_epoch(model, opt, loss_fn, x, y)  # warm-up: allocator, BLAS kernels, caches
    rates, loss = [], float("nan")
    for _ in range(args.reps):
        t0 = time.perf_counter()
        loss = run_lstm_epoch(model, opt, loss_fn, x, y)
        rates.append(x.shape[0] / (time.perf_counter() - t0))
    rate = statistics.median(rates)
    result = train_record(args, rates, LSTM_BATCH, x.shape[0], loss, model)
    result.update({"tokens_per_sample": TEXT_STEPS, "tokens_per_s": rate * TEXT_STEPS,
                   "vocab": vocab})
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {rate:.0f} samples/s, {rate * TEXT_STEPS:.0f} tokens/s (median of "
              f"{args.reps}; reps {result['reps']}; threads {args.threads}; V {vocab}; "
              f"train loss {loss:.4f}; blas {result['blas']})")
    if not all(np.isfinite(rates)) or not np.isfinite(loss):
        sys.exit(1)



LSTM_VOCAB, LSTM_SPARSITY = 113, 0.8  # `sculpt bench`: kLstmVocab, kLstmSparsity


class CharLstmStep(nn.Module):
    """CharLSTM one token per call, as a user generating with it writes it: (token [1, 1], h, c)
    -> (logits [1, V], h, c), the state passed in and out."""

    def __init__(self, vocab):
        super().__init__()
        self.model = CharLSTM(vocab)

    def forward(self, token, h, c):
        m = self.model
        y, (h, c) = m.lstm(m.embed(token), (h, c))
        return m.out(y[:, -1]), h, c


def char_lstm(sparsity):
    """PyTorch's default init (seed 7), eval mode; with sparsity > 0 every gate matrix and the
    output weight pruned by L1 magnitude, each on its own (prune.l1_unstructured + remove)."""
    import torch.nn.utils.prune as prune
    torch.manual_seed(INFER_SEED)
    model = CharLstmStep(LSTM_VOCAB).eval()
    if sparsity > 0:
        lstm, out = model.model.lstm, model.model.out
        for module, names in ((lstm, [n for n, _ in lstm.named_parameters()
                                      if n.startswith("weight_")]), (out, ["weight"])):
            for name in names:
                prune.l1_unstructured(module, name, amount=sparsity)
                prune.remove(module, name)
        lstm.flatten_parameters()
    return model


def run_lstm_step(args):
    """One generated token of the character LSTM: embedding, both LSTM layers one step from the
    state the last step left, the output layer. Dense either way (torch has no sparse LSTM)."""
    if args.weights != "dense":
        sys.exit(f"{args.case}: --weights {args.weights} does not apply (torch's LSTM is dense)")
    model = char_lstm(LSTM_SPARSITY if args.case == "infer-lstm80-b1" else 0.0)
    params = sum(p.numel() for p in model.parameters())
    nonzeros = sum(int((p != 0).sum()) for p in model.parameters())
    token = torch.zeros(1, 1, dtype=torch.long)
    h, c = torch.zeros(2, 1, LSTM_HIDDEN), torch.zeros(2, 1, LSTM_HIDDEN)
    step = model
    if args.mode in ("jit-freeze", "jit-optimize"):
        with torch.no_grad():
            traced = torch.jit.trace(model, (token, h, c))
            step = (torch.jit.freeze(traced) if args.mode == "jit-freeze"
                    else torch.jit.optimize_for_inference(traced))
    context = torch.inference_mode if args.mode == "inference" else torch.no_grad
    state = {"h": h, "c": c, "t": 0}

    def run_for(seconds):
        calls, t0 = 0, time.perf_counter()
        while True:
            for _ in range(8):
                token[0, 0] = state["t"]
                logits, state["h"], state["c"] = step(token, state["h"], state["c"])
                state["t"] = (state["t"] * 7 + 3) % LSTM_VOCAB
            calls += 8
            elapsed = time.perf_counter() - t0
            if elapsed >= seconds:
                return elapsed / calls * 1e6, logits

    with context():
        run_for(0.3)
        runs = [run_for(0.5) for _ in range(args.reps)]
    us = [u for u, _ in runs]
    med = statistics.median(us)
    result = {"case": args.case, "unit": "samples/s", "samples_per_s": 1e6 / med,
              "tokens_per_s": 1e6 / med, "us_per_token": med, "reps_us": [round(u, 3) for u in us],
              "batch": 1, "threads": args.threads, "params": params, "nonzeros": nonzeros,
              "mode": args.mode, "weights": args.weights, "torch": torch.__version__,
              "blas": blas_in_use()}
    if args.json:
        print(json.dumps(result), flush=True)
    else:
        print(f"{args.case}: {1e6 / med:.0f} tokens/s, {med:.1f} us per token (median of "
              f"{args.reps}; mode {args.mode}; threads {args.threads})")
    if not all(np.isfinite(us)) or not bool(torch.isfinite(runs[-1][1]).all()):
        sys.exit(1)
