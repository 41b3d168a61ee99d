// `sculpt bench CASE`: the in-binary half of ./bench/run. Runs a reference workload (PEERS.md)
// after one warm-up epoch and prints its throughput; bench/run pairs it with the PyTorch peer.
#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/recipe.h"
#include "train/trainer.h"

namespace sculpt::cli {

namespace {

struct BenchArgs {
  std::string name;
  int threads = 2;
  int reps = 1;
  bool json = false;
  std::string data = DataConfig{}.path;
};

// Workloads A (MLP) and B (LeNet-5) of PEERS.md with the foundation's optimizer:
// SGD lr 0.1 (LeNet 0.05), momentum 0.9, Nesterov, weight decay 5e-4, batch 128, all 60,000
// training images (469 steps an epoch).
Recipe bench_recipe(const BenchArgs& a) {
  Recipe r;
  r.source = "bench " + a.name;
  r.data.path = a.data;
  r.data.val_fraction = 0.0;
  r.data.limit_test = 1;
  r.optim.set("lr", 0.1).set("momentum", 0.9).set("nesterov", true).set("weight_decay", 5e-4);
  r.train.batch_size = 128;
  r.train.eval_batch_size = 128;
  r.train.threads = a.threads;
  r.train.epochs = 1 + a.reps;
  r.output.progress = "none";
  if (a.name == "train-mlp") {
    r.model.name = "mlp";
  } else if (a.name == "train-lenet5") {
    r.model.name = "lenet5";
    r.optim.set("lr", 0.05);
  } else {
    throw ConfigError("unknown benchmark case '" + a.name + "'", "bench",
                      "cases: train-mlp, train-lenet5");
  }
  return r;
}

int run_bench(const BenchArgs& a) {
  SCULPT_CHECK(a.reps >= 1, ConfigError, "--reps must be >= 1", "bench");
  train::Trainer trainer(bench_recipe(a));
  trainer.train_epoch({});  // warm-up: page faults, oneDNN kernel selection, caches
  std::vector<double> rates;
  for (int i = 0; i < a.reps; ++i) rates.push_back(trainer.train_epoch({}).samples_per_s);
  std::vector<double> sorted = rates;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  if (a.json) {
    nlohmann::json j{{"case", a.name},
                     {"unit", "samples/s"},
                     {"samples_per_s", median},
                     {"reps", rates},
                     {"threads", trainer.threads()}};
    fmt::print("{}\n", j.dump());
  } else {
    fmt::print("{}: {:.0f} samples/s (median of {}, {} threads)\n", a.name, median, a.reps,
               trainer.threads());
  }
  return 0;
}

}  // namespace

void add_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* sub =
      app.add_subcommand("bench", "Run a benchmark case (the Sculpt half of ./bench/run)");
  sub->add_option("case", args->name, "train-mlp | train-lenet5")->required();
  sub->add_option("--threads,-t", args->threads, "Threads")->capture_default_str();
  sub->add_option("--reps", args->reps, "Measured epochs after the warm-up")->capture_default_str();
  sub->add_option("--data", args->data, "Fashion-MNIST directory")->capture_default_str();
  sub->add_flag("--json", args->json, "Print one JSON line");
  register_verb(sub, [args] { return run_bench(*args); });
}

}  // namespace sculpt::cli
