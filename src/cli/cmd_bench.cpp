// `sculpt bench CASE`: the in-binary half of ./bench/run. Runs a reference workload (PEERS.md)
// after a warm-up and prints its throughput (training cases: train-mlp, train-lenet5,
// train-cnn, train-resnet and train-lstm, the character LSTM of recipes/char-lstm.toml on a
// fixed slice of Debian's fortunes), its time per optimizer step (optim-* cases) or per
// clipping call (clip-global-norm); bench/run pairs it with the PyTorch peer.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "char_lstm_recipe.h"
#include "cli/bench_gemm.h"
#include "cli/bench_infer.h"
#include "cli/commands.h"
#include "cli/verb.h"
#include "clip/clipper.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/param_store.h"
#include "core/rng.h"
#include "io/recipe.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "train/trainer.h"

namespace sculpt::cli {

namespace {

struct BenchArgs {
  std::string name;
  std::string model;             // infer
  std::vector<int64_t> batches;  // infer (default 1 and 256); train-mlp*, gemm-bound-*
                                 // (one, default 128)
  int threads = 2;
  int reps = 1;
  bool json = false;
  std::string data;  // empty: the case's own (Fashion-MNIST; train-lstm: the recipe's)
};

// --data, or `fallback` when it was not given.
std::string data_path(const BenchArgs& a, const std::string& fallback) {
  return a.data.empty() ? fallback : a.data;
}

// The batch of a train or gemm-bound case: --batch (one value) or 128.
int64_t train_batch(const BenchArgs& a) {
  SCULPT_CHECK(a.batches.size() <= 1, ConfigError,
               fmt::format("{} takes one --batch, got {}", a.name, a.batches.size()), "--batch");
  return a.batches.empty() ? 128 : a.batches[0];
}

// Workloads A (MLP) and B (LeNet-5) of PEERS.md, the wide MLP (784-4096-4096-10) and
// resnet-small, with the foundation's optimizer: SGD lr 0.1 (LeNet 0.05), momentum 0.9, Nesterov,
// weight decay 5e-4, batch 128 (--batch), all 60,000 training images (469 steps an epoch;
// resnet-small kResnetSamples, mlp-wide kWideSamples, seed-cnn kCnnSamples).
constexpr int64_t kResnetSamples = 12800, kWideSamples = 6400, kCnnSamples = 6400;

// train-lstm: recipes/char-lstm.toml as built in (char_lstm_recipe.h): embedding 64, LSTM 256,
// dropout 0.2, LSTM 256, Linear to the character vocabulary; windows of 100 characters (stride
// 100), batch 64, Adam lr 2e-3, global-norm clipping at 1.0 when this was written. An epoch is
// the first kLstmWindows training windows (20 steps), so that a repetition takes seconds: a step
// is about 34 GFLOP of GEMMs (the peer used about 1 s of CPU a step), and bench/run runs two
// epochs in each of its six sides a repetition.
constexpr int64_t kLstmWindows = 1280;

RecipeConfig lstm_recipe(const BenchArgs& a) {
  RecipeConfig r = parse_recipe(kCharLstmRecipe, "recipes/char-lstm.toml (bench " + a.name + ")");
  r.data.path = data_path(a, r.data.path);
  r.data.limit_train = kLstmWindows;
  r.data.limit_test = 1;
  r.train.threads = a.threads;
  r.train.epochs = 1 + a.reps;
  r.output.progress = "none";
  return r;
}

RecipeConfig bench_recipe(const BenchArgs& a) {
  if (a.name == "train-lstm") return lstm_recipe(a);
  // train-mlp-bf16, train-lenet5-bf16: the case without the suffix, with train.precision bf16.
  constexpr std::string_view kBf16 = "-bf16";
  if (a.name.size() > kBf16.size() && a.name.ends_with(kBf16)) {
    BenchArgs fp32 = a;
    fp32.name = a.name.substr(0, a.name.size() - kBf16.size());
    RecipeConfig r = bench_recipe(fp32);
    r.source = "bench " + a.name;
    r.train.precision = Precision::kBf16;
    return r;
  }
  RecipeConfig r;
  r.source = "bench " + a.name;
  r.data.path = data_path(a, DataConfig{}.path);
  r.data.val_fraction = 0.0;
  r.data.limit_test = 1;
  r.optim.set("lr", 0.1).set("momentum", 0.9).set("nesterov", true).set("weight_decay", 5e-4);
  r.train.batch_size = train_batch(a);
  r.train.eval_batch_size = 128;
  r.train.threads = a.threads;
  r.train.epochs = 1 + a.reps;
  r.output.progress = "none";
  if (a.name == "train-mlp") {
    r.model.name = "mlp";
  } else if (a.name == "train-mlp-wide") {
    // About 75x the MLP's work a sample: the first 6,400 images (50 steps) make an epoch.
    r.model.name = "custom";
    r.model.custom = bench_mlp_spec(a.name);
    r.data.limit_train = kWideSamples;
  } else if (a.name == "train-lenet5") {
    r.model.name = "lenet5";
    r.optim.set("lr", 0.05);
  } else if (a.name == "train-cnn") {
    // The seed CNN of recipes/cnn.toml (conv 32, conv 64, max-pool, fc 100): about 85x
    // LeNet-5's work a sample, so the first 6,400 images (50 steps) make an epoch.
    r.model.name = "seed-cnn";
    r.optim.set("lr", 0.05);
    r.data.limit_train = kCnnSamples;
  } else if (a.name == "train-resnet") {
    // About 10x LeNet-5's work a sample: the first 12,800 images (100 steps) make an epoch.
    r.model.name = "resnet-small";
    r.data.limit_train = kResnetSamples;
  } else {
    throw ConfigError("unknown benchmark case '" + a.name + "'", "bench",
                      "cases: train-mlp, train-mlp-wide, train-lenet5, train-cnn, train-resnet, "
                      "train-mlp-bf16, train-lenet5-bf16, "
                      "train-lstm, "
                      "optim-adam, optim-sgd-nesterov, "
                      "clip-global-norm, gemm-bound-mlp, gemm-bound-mlp-wide, infer, infer-mlp-b1, "
                      "infer-mlp-b256, "
                      "infer-sparse95-b1, infer-sparse95-b256, infer-trained95-b1, "
                      "infer-trained95-b256, infer-lenet90-b1, infer-lenet90-b256, infer-lstm-b1, "
                      "infer-lstm80-b1, "
                      "export-size-95, export-size-95-fp16");
  }
  return r;
}

// Workload E of PEERS.md: one optimizer step over the parameters of model A (the MLP's
// 266,610, declared by the model itself so names, shapes, flags and padding are the real ones),
// with fixed pseudo-random weights and gradients; the gradients stay the same every step, as
// in the peer. Adam: lr 1e-3 (its defaults); SGD: lr 0.01, momentum 0.9, Nesterov, weight
// decay 5e-4 (biases get none, Sculpt's default: the same arithmetic either way).
OptimConfig bench_optim(const std::string& name) {
  OptimConfig c;
  if (name == "optim-adam") {
    c.name = "adam";
    c.set("lr", 1e-3);
  } else {
    c.name = "sgd";
    c.set("lr", 0.01).set("momentum", 0.9).set("nesterov", true).set("weight_decay", 5e-4);
  }
  return c;
}

// The parameters of model A (the MLP's 266,610, declared by the model itself so names, shapes,
// flags and padding are the real ones), with fixed pseudo-random weights and gradients
// N(0, 0.01^2) (global norm about 5.2).
void mlp_params(ParamStore& ps) {
  nn::Model model = nn::Model::build(nn::builtin_model("mlp", 10), Shape{1, 28, 28});
  model.declare(ps);
  ps.finalize();
  Rng rng(7);
  for (size_t i = 0; i < ps.count(); ++i) {
    const float bound = 1.0f / std::sqrt(static_cast<float>(ps.entry(i).size));
    for (float& w : ps.value_span(i)) w = bound * (2.0f * rng.uniform_float() - 1.0f);
    for (float& g : ps.grad_span(i)) g = static_cast<float>(0.01 * rng.normal());
  }
}

// Runs setup() then body() until `seconds` of wall time have passed; returns the mean
// microseconds of body() alone and sets `calls`.
template <class Setup, class Body>
double time_body(double seconds, int64_t& calls, Setup&& setup, Body&& body) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  double timed = 0.0;
  calls = 0;
  do {
    setup();
    const auto t0 = Clock::now();
    body();
    timed += std::chrono::duration<double>(Clock::now() - t0).count();
    ++calls;
  } while (std::chrono::duration<double>(Clock::now() - start).count() < seconds);
  return timed / static_cast<double>(calls) * 1e6;
}

// The measured runs of a timed case: microseconds a call and the calls counted, per run.
struct Runs {
  std::vector<double> us;
  std::vector<int64_t> calls;
};

// Calls `timed(seconds, calls)`, which returns microseconds a call, once for 0.3 s to warm up
// (OpenMP pool, caches, first touch of any state), then `reps` times for 0.5 s.
template <class Timed>
Runs timed_runs(int reps, Timed&& timed) {
  Runs r;
  int64_t n = 0;
  timed(0.3, n);
  for (int i = 0; i < reps; ++i) {
    r.us.push_back(timed(0.5, n));
    r.calls.push_back(n);
  }
  return r;
}

// The --json line of a case: `fields`, the case and its unit, every run and their median
// (under `median_key`).
void print_json(const BenchArgs& a, const char* unit, const char* median_key,
                const std::vector<double>& runs, nlohmann::json fields) {
  fields["case"] = a.name;
  fields["unit"] = unit;
  fields[median_key] = median_of(runs);
  fields["reps"] = runs;
  fmt::print("{}\n", fields.dump());
}

// Workload E, clipping: torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0) over model A's
// parameters. Every call must do both passes (the norm, then the scaling), so the gradients are
// restored from a copy before each call, outside the timed region (the peer does the same with
// p.grad.copy_); like after a backward pass, the gradients are then fresh in the cache.
int run_clip_bench(const BenchArgs& a) {
  set_threads(a.threads, "--threads");
  ParamStore ps;
  mlp_params(ps);
  const std::vector<float> saved(ps.grads().begin(), ps.grads().end());
  ClipConfig cfg;
  cfg.set("name", std::string("global-norm")).set("max_norm", 1.0);
  std::unique_ptr<clip::Clipper> clipper = clip::make_clipper(cfg);
  const auto grads = ps.grads();
  // Restored by all threads, each its share of the arena, as torch's copy_ of a large tensor
  // and a backward pass do: every thread finds its part of the gradients in its own cache.
  auto restore = [&] {
    const int64_t n = static_cast<int64_t>(saved.size());
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) grads[size_t(i)] = saved[size_t(i)];
  };
  clip::ClipReport last;
  auto clip_once = [&] { last = clipper->apply(ps); };
  const Runs runs = timed_runs(a.reps, [&](double seconds, int64_t& calls) {
    return time_body(seconds, calls, restore, clip_once);
  });
  SCULPT_CHECK(last.clipped_any && std::abs(last.norm_after - 1.0) < 1e-4, Error,
               fmt::format("the clipping benchmark did not clip to 1 (norm {} -> {})",
                           last.norm_before, last.norm_after),
               "bench");
  if (a.json) {
    print_json(a, "us/call", "us_per_call", runs.us,
               {{"calls", runs.calls},
                {"params", ps.num_params()},
                {"norm_before", last.norm_before},
                {"threads", num_threads()}});
  } else {
    fmt::print(
        "{}: {:.1f} us/call (median of {} runs of 0.5 s; {} params, norm {:.3f} -> 1, "
        "{} threads)\n",
        a.name, median_of(runs.us), a.reps, ps.num_params(), last.norm_before, num_threads());
  }
  return 0;
}

int run_optim_bench(const BenchArgs& a) {
  using Clock = std::chrono::steady_clock;
  set_threads(a.threads, "--threads");
  ParamStore ps;
  mlp_params(ps);
  const OptimConfig cfg = bench_optim(a.name);
  std::unique_ptr<optim::Optimizer> opt = optim::make_optimizer(cfg, ps);
  const double lr = opt->base_lr();
  int64_t step = 0;
  // Steps in batches of 16 until `seconds` have passed; returns microseconds per step and the
  // number of steps. Timing by duration, not by a count calibrated on the first (slowest) steps.
  auto run_for = [&](double seconds, int64_t& steps) {
    const auto t0 = Clock::now();
    double elapsed = 0.0;
    steps = 0;
    do {
      for (int i = 0; i < 16; ++i) opt->step(ps, lr, step++);
      steps += 16;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < seconds);
    return elapsed / static_cast<double>(steps) * 1e6;
  };
  const Runs runs = timed_runs(a.reps, run_for);
  const auto values = ps.values();
  SCULPT_CHECK(std::all_of(values.begin(), values.end(), [](float x) { return std::isfinite(x); }),
               Error, "the optimizer benchmark produced a non-finite weight", "bench");
  if (a.json) {
    print_json(a, "us/step", "us_per_step", runs.us,
               {{"steps", runs.calls},
                {"params", ps.num_params()},
                {"optimizer", cfg.name},
                {"threads", num_threads()}});
  } else {
    fmt::print("{}: {:.1f} us/step (median of {} runs of 0.5 s, {} params, {} threads)\n", a.name,
               median_of(runs.us), a.reps, ps.num_params(), num_threads());
  }
  return 0;
}

// The train-* cases: one warm-up epoch, then `reps` timed epochs of the same Trainer; samples/s
// (a sample of train-lstm is one window: also tokens/s) and the last epoch's mean training loss,
// which bench/run sets beside the peer's to show the two sides did the same work.
int run_train_bench(const BenchArgs& a) {
  train::Trainer trainer(bench_recipe(a));
  trainer.train_epoch({});  // warm-up: page faults, oneDNN kernel selection, caches
  std::vector<double> rates;
  double loss = 0.0;
  for (int i = 0; i < a.reps; ++i) {
    const train::EpochEvent ev = trainer.train_epoch({});
    rates.push_back(ev.samples_per_s);
    loss = ev.train_loss;
  }
  SCULPT_CHECK(std::isfinite(loss), Error,
               fmt::format("the {} benchmark ended with a non-finite loss", a.name), "bench");
  const data::Dataset& train = trainer.splits().train;
  const double positions = static_cast<double>(train.positions);
  if (a.json) {
    nlohmann::json fields{{"threads", trainer.threads()},
                          {"samples", train.size()},
                          {"batch", trainer.recipe().train.batch_size},
                          {"params", trainer.params().num_params()},
                          {"train_loss", loss},
                          {"precision", trainer.precision_path()}};
    if (train.positions > 1) {
      fields["tokens_per_sample"] = train.positions;
      fields["tokens_per_s"] = median_of(rates) * positions;
      fields["vocab"] = trainer.splits().vocabulary.size();
    }
    print_json(a, "samples/s", "samples_per_s", rates, std::move(fields));
  } else {
    fmt::print("{}: {:.0f} samples/s", a.name, median_of(rates));
    if (train.positions > 1) fmt::print(" ({:.0f} tokens/s)", median_of(rates) * positions);
    fmt::print(" (median of {}, {} threads; train loss {:.4f})\n", a.reps, trainer.threads(), loss);
  }
  return 0;
}

int run_bench(const BenchArgs& a) {
  SCULPT_CHECK(a.reps >= 1, ConfigError, "--reps must be >= 1", "bench");
  if (is_infer_case(a.name))
    return run_infer_bench({a.name, a.model,
                            a.batches.empty() ? std::vector<int64_t>{1, 256} : a.batches, a.threads,
                            a.reps, a.json, data_path(a, DataConfig{}.path)});
  if (is_gemm_bound_case(a.name))
    return run_gemm_bound({a.name, train_batch(a), a.threads, a.reps, a.json});
  if (a.name == "optim-adam" || a.name == "optim-sgd-nesterov") return run_optim_bench(a);
  if (a.name == "clip-global-norm") return run_clip_bench(a);
  return run_train_bench(a);
}

}  // namespace

void add_bench(CLI::App& app) {
  const auto [sub, args] = add_verb<BenchArgs>(
      app, "bench", "Run a benchmark case (the Sculpt half of ./bench/run)", run_bench);
  sub->add_option("case", args->name,
                  "train-mlp | train-mlp-wide | train-lenet5 | train-cnn | train-resnet | "
                  "train-lstm | gemm-bound-mlp | gemm-bound-mlp-wide | optim-adam | "
                  "optim-sgd-nesterov | "
                  "clip-global-norm "
                  "| infer (with --model) | infer-mlp-b1 | infer-mlp-b256 | infer-sparse95-b1 | "
                  "infer-sparse95-b256 | infer-trained95-b1 | infer-trained95-b256 | "
                  "infer-lenet90-b1 | infer-lenet90-b256 (these four with --model) | "
                  "infer-lstm-b1 | infer-lstm80-b1 | "
                  "export-size-95 | export-size-95-fp16")
      ->required();
  sub->add_option("--model,-m", args->model,
                  "infer, infer-trained95-*, infer-lenet90-*: an export file (sculpt export)");
  sub->add_option("--batch,-b", args->batches,
                  "infer: batch sizes (default 1 256); train-*, gemm-bound-*: the batch (default "
                  "128)");
  sub->add_option("--threads,-t", args->threads, "Threads")->capture_default_str();
  sub->add_option("--reps", args->reps,
                  "Measured epochs (optim-*, clip-*: 0.5 s runs of steps) after the warm-up")
      ->capture_default_str();
  sub->add_option("--data", args->data,
                  "Fashion-MNIST directory (train-*: training images; infer-trained95-*, "
                  "infer-lenet90-*: test images; default " +
                      DataConfig{}.path + "); train-lstm: the text file or directory (default " +
                      parse_recipe(kCharLstmRecipe, "recipes/char-lstm.toml").data.path + ")");
  sub->add_flag("--json", args->json, "Print one JSON line");
}

}  // namespace sculpt::cli
