// `sculpt train`: runs a recipe, writes the run directory (recipe.toml, metrics.jsonl,
// checkpoints/last.safetensors) and prints a summary.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/run_dir.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/recipe.h"
#include "report/metrics.h"
#include "report/progress.h"
#include "train/trainer.h"

namespace sculpt::cli {

namespace {

struct TrainArgs {
  std::string recipe;
  std::vector<std::string> sets;
  std::string out;
  bool quiet = false;
};

void print_summary(const train::EpochEvent& last, bool regression, int64_t params, double wall,
                   double samples_per_s, const std::string& dir, bool checkpoint) {
  fmt::print("\n== summary ==\n");
  if (regression)
    fmt::print("test loss (mse): {:.6f}\n", last.test.loss);
  else
    fmt::print("test accuracy:   {:.2f}%  (loss {:.4f})\n", 100.0 * last.test.accuracy,
               last.test.loss);
  fmt::print("parameters:      {}\n", params);
  fmt::print("wall time:       {:.1f} s\n", wall);
  fmt::print("samples/s:       {:.0f} (training)\n", samples_per_s);
  fmt::print("run directory:   {}\n", dir);
  if (checkpoint) fmt::print("evaluate with:   {} eval --model {}\n", program_name(), dir);
}

int run_train(const TrainArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  std::vector<std::string> overrides = a.sets;
  if (a.quiet) overrides.push_back("output.progress=none");
  Recipe recipe = load_recipe(a.recipe, overrides);
  train::Trainer trainer(recipe);  // data and model errors surface before any file is written
  const std::string dir = make_run_dir(recipe, a.recipe, a.out);
  write_text_file(dir + "/recipe.toml", to_toml(recipe));
  const auto& sp = trainer.splits();
  const bool talk = recipe.output.progress != "none";
  if (talk) {
    fmt::print("sculpt: run directory {}\n", dir);
    fmt::print("data: {} train, {} val, {} test samples of shape {}\n", sp.train.size(),
               sp.val.size(), sp.test.size(), to_string(sp.train.sample_shape));
    fmt::print("model: {} ({} parameters, {} threads)\n{}", recipe.model.name,
               trainer.params().num_params(), trainer.threads(),
               trainer.model().summary(trainer.params()));
    std::fflush(stdout);
  }

  const bool regression = sp.train.task == data::Task::kRegression;
  report::MetricsWriter metrics(dir + "/metrics.jsonl", /*accuracy=*/!regression);
  report::Progress progress(recipe.output.progress, recipe.train.epochs, /*accuracy=*/!regression);
  train::TrainHooks hooks;
  const int64_t log_every = 50;
  hooks.on_step = [&](const train::StepEvent& e) {
    progress.tick(e.epoch, e.step_in_epoch, e.steps_per_epoch, e.result.loss, e.result.correct,
                  e.samples, e.result.lr);
    if (e.step % log_every == 0)
      metrics.step(e.step, e.epoch, e.result.loss, e.result.lr,
                   e.samples ? double(e.result.correct) / double(e.samples) : 0.0);
  };
  hooks.on_epoch = [&](const train::EpochEvent& e) {
    progress.epoch_end(e);
    metrics.epoch(e);
    if (recipe.output.checkpoint) trainer.save_checkpoint(dir + "/checkpoints/last.safetensors");
  };
  const train::EpochEvent last = trainer.run(hooks);

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  const double train_time = progress.train_seconds();
  const double samples_per_s =
      train_time > 0 ? double(sp.train.size()) * double(recipe.train.epochs) / train_time : 0.0;
  metrics.end(last, wall, samples_per_s);
  progress.finish();
  print_summary(last, regression, trainer.params().num_params(), wall, samples_per_s, dir,
                recipe.output.checkpoint);
  return 0;
}

}  // namespace

void add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Train a model from a recipe");
  sub->add_option("--recipe,-r", args->recipe, "Recipe file (TOML)")->required();
  sub->add_option("--set,-s", args->sets, "Override a recipe value: table.key=value (repeatable)")
      ->take_all();
  sub->add_option("--out,-o", args->out, "Run directory (default: <output.dir>/<name>-<time>)");
  sub->add_flag("--quiet,-q", args->quiet, "No progress output (summary only)");
  register_verb(sub, [args] { return run_train(*args); });
}

}  // namespace sculpt::cli
