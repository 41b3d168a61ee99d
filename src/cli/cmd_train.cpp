// `sculpt train`: runs a recipe, writes the run directory (recipe.toml, metrics.jsonl,
// checkpoints/last.safetensors) and prints a summary; `--resume RUN_DIR` continues such a run
// from its last checkpoint in the same directory, exactly as if it had never stopped.
#include <fmt/format.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "run/checkpoints.h"
#include "run/run_dir.h"
#include "cli/signals.h"
#include "run/train_log.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/checkpoint.h"
#include "io/recipe.h"
#include "report/metrics.h"
#include "report/progress.h"
#include "report/prune_table.h"
#include "train/checkpoint.h"
#include "train/trainer.h"

namespace sculpt::cli {

using namespace sculpt::run;  // run directories and checkpoints (src/run)

namespace {

struct TrainArgs {
  std::string recipe;
  std::string resume;
  std::vector<std::string> sets;
  std::string out;
  bool quiet = false;
  bool force = false;
};

// Thrown from a training hook after SIGINT/SIGTERM, once the checkpoint is written.
struct Stopped {
  int signal = 0;
};

// Where a resumed run picks up (absent for a new run).
struct ResumePoint {
  int64_t epoch = 0, step = 0;
  int64_t dropped = 0;  // metrics.jsonl lines removed (see trim_metrics)
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

// "prune: gradual magnitude (unstructured, global) to 95%, cubic ramp over steps 422..5908,
// every 50 steps".
void print_prune_plan(const prune::Pruner& p) {
  const prune::PruneConfig& c = p.config();
  std::string what = fmt::format("{} ({}, {})", c.criterion, c.granularity, c.scope);
  if (c.when == "gradual")
    fmt::print("prune: gradual {} to {:.4g}%, {} ramp over steps {}..{}, every {} steps\n", what,
               100.0 * c.sparsity, c.ramp, p.begin_step(), p.end_step(), c.every);
  else
    fmt::print("prune: {} to {:.4g}% {}\n", what, 100.0 * c.sparsity,
               c.when == "snip" ? "before the first step" : "after the last epoch");
}

// Trains the remaining epochs of `trainer` into the run directory `dir` and prints the summary.
int train_into(train::Trainer& trainer, const Recipe& recipe, const std::string& dir,
               const std::optional<ResumePoint>& resumed,
               std::chrono::steady_clock::time_point t_start) {
  const auto& sp = trainer.splits();
  const bool talk = recipe.output.progress != "none";
  if (talk) {
    if (resumed)
      fmt::print("sculpt: resuming {} at epoch {} of {} (step {})\n", dir, resumed->epoch + 1,
                 recipe.train.epochs, resumed->step);
    else
      fmt::print("sculpt: run directory {}\n", dir);
    fmt::print("data: {} train, {} val, {} test samples of shape {}\n", sp.train.size(),
               sp.val.size(), sp.test.size(), to_string(sp.train.sample_shape));
    fmt::print("model: {} ({} parameters, {} threads)\n{}", recipe.model.name,
               trainer.params().num_params(), trainer.threads(),
               trainer.model().summary(trainer.params()));
    const sched::Schedule& sc = trainer.schedule();
    const int64_t last = trainer.total_steps() - 1;
    fmt::print("schedule: {}, lr {:.4g} at the start, {:.4g} at mid-run, {:.4g} at the end{}{} "
               "(`{} schedule` prints every step)\n",
               recipe.schedule.name, sc.at(0), sc.at(last / 2), sc.at(last),
               sc.cycles_momentum() ? "; cycles the momentum" : "",
               sc.watches() ? fmt::format("; lowered when {} stalls", sc.metric()) : "",
               program_name());
    if (const prune::Pruner* p = trainer.pruner()) print_prune_plan(*p);
    std::fflush(stdout);
  }

  const bool regression = sp.train.task == data::Task::kRegression;
  report::MetricsWriter metrics(dir + "/metrics.jsonl", /*accuracy=*/!regression);
  if (resumed) {
    report::MetricsRecord r;
    r.event = "resume";
    r.step = resumed->step;
    r.epoch = resumed->epoch;
    r.extra["dropped"] = static_cast<double>(resumed->dropped);
    metrics.write(r);
  }
  report::Progress progress(recipe.output.progress, recipe.train.epochs, /*accuracy=*/!regression);
  train::TrainHooks hooks;
  const bool clips = trainer.clips();
  StepLog step_log(metrics, trainer, regression);
  // Checkpoints: at the start of a new run (so that a kill at any moment leaves one to resume
  // from), every output.checkpoint_every steps, after each epoch, and on SIGINT/SIGTERM.
  const bool checkpoints = recipe.output.checkpoint;
  int64_t saved_step = -1;
  const auto checkpoint = [&] {
    if (!checkpoints) return;
    save_run_checkpoint(trainer, dir, recipe.output.keep);
    saved_step = trainer.step();
  };
  const auto stop_if_asked = [&] {
    if (const int sig = stop_signal()) {
      if (saved_step != trainer.step()) checkpoint();
      throw Stopped{sig};
    }
  };
  catch_stop_signals();
  if (!resumed) checkpoint();
  const int64_t every = recipe.output.checkpoint_every;
  hooks.on_step = [&](const train::StepEvent& e) {
    progress.tick(e.epoch, e.step_in_epoch, e.steps_per_epoch, e.result.loss, e.result.correct,
                  e.samples, e.result.lr,
                  clips ? std::optional<bool>(e.result.clip.clipped_any) : std::nullopt);
    step_log(e);
    if (every > 0 && e.step % every == 0 && e.step != saved_step) checkpoint();
    stop_if_asked();
  };
  hooks.on_epoch = [&](const train::EpochEvent& e) {
    progress.epoch_end(e);
    const report::MetricsRecord r = epoch_record(e, trainer, regression);
    if (e.lr_reduced && recipe.output.progress != "none")
      fmt::print("reduce-on-plateau: {} stalled, the rate is now {:.4g} (x{:.4g} of the "
                 "schedule)\n",
                 trainer.schedule().metric(), r.lr.value(), trainer.schedule().plateau_state().scale);
    metrics.write(r);
    checkpoint();
    stop_if_asked();
  };
  const int64_t first_epoch = trainer.epoch();
  train::EpochEvent last;
  try {
    last = trainer.run(hooks);
  } catch (const Stopped& s) {
    progress.finish();
    std::fflush(stdout);
    fmt::print(stderr, "\nsculpt: stopped by {} at step {}", s.signal == SIGINT ? "SIGINT" : "SIGTERM",
               trainer.step());
    if (checkpoints)
      fmt::print(stderr, "; checkpoint saved. Continue with: {} train --resume {}\n",
                 program_name(), dir);
    else
      fmt::print(stderr, "; no checkpoint (output.checkpoint = false)\n");
    return 128 + s.signal;
  }

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  const double train_time = progress.train_seconds();
  const double epochs_run = double(recipe.train.epochs - first_epoch);
  const double samples_per_s =
      train_time > 0 ? double(sp.train.size()) * epochs_run / train_time : 0.0;
  metrics.write(end_record(last, trainer, regression, wall, samples_per_s));
  progress.finish();
  print_summary(last, regression, trainer.params().num_params(), wall, samples_per_s, dir,
                recipe.output.checkpoint);
  if (!trainer.masks().empty())
    fmt::print("\npruned to {:.1f}% sparsity:\n{}", 100.0 * trainer.sparsity(),
               report::format_prune_table(trainer.prunable(), trainer.prune_stats()));
  write_report(dir);
  return 0;
}

int run_new(const TrainArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  SCULPT_CHECK(!a.recipe.empty(), ConfigError,
               "give --recipe FILE to start a run or --resume RUN_DIR to continue one",
               "sculpt train", "recipes/ holds examples");
  std::vector<std::string> overrides = a.sets;
  if (a.quiet) overrides.push_back("output.progress=none");
  Recipe recipe = load_recipe(a.recipe, overrides);
  if (!a.out.empty())
    check_run_dir(a.out, {a.recipe, recipe.data.path, recipe.data.test_path}, a.force);
  train::Trainer trainer(recipe);  // data and model errors surface before any file is written
  if (a.force && !a.out.empty()) clear_previous_run(a.out);
  const std::string dir = make_run_dir(recipe, a.recipe, a.out);
  write_text_file(dir + "/recipe.toml", to_toml(recipe));
  return train_into(trainer, recipe, dir, std::nullopt, t_start);
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// A resume continues the same run: only its length and its output may change.
void check_resume_overrides(const std::vector<std::string>& sets) {
  std::vector<std::string> forbidden;
  for (const std::string& s : sets) {
    const std::string_view key = trimmed(std::string_view(s).substr(0, s.find('=')));
    if (!train::resume_may_change(key)) forbidden.emplace_back(key);
  }
  if (forbidden.empty()) return;
  throw ConfigError(
      fmt::format("--set {} on --resume: the run would no longer be the same run as its "
                  "checkpoint's",
                  fmt::join(forbidden, ", ")),
      "sculpt train --resume",
      "a resume may change only train.epochs and output.*; to change anything else start a new "
      "run: sculpt train --recipe RUN_DIR/recipe.toml --set ...");
}

int run_resume(const TrainArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  SCULPT_CHECK(a.recipe.empty(), ConfigError, "--recipe and --resume cannot be combined",
               "sculpt train",
               "a resumed run reads RUN_DIR/recipe.toml; lengthen it with --set "
               "train.epochs=N, or drop --resume to start a new run");
  SCULPT_CHECK(a.out.empty(), ConfigError, "--out and --resume cannot be combined", "sculpt train",
               "a resumed run continues in its own directory");
  check_resume_overrides(a.sets);
  const RunFiles files = resume_files(a.resume);
  const LoadedCheckpoint loaded = newest_valid_checkpoint(files.dir);
  const io::Checkpoint& ck = loaded.ck;
  std::vector<std::string> overrides = a.sets;
  if (a.quiet) overrides.push_back("output.progress=none");
  Recipe recipe = load_recipe(files.recipe, overrides);

  // Everything is checked (training state, tensors, data, recipe) before the run is called
  // complete: a checkpoint claiming 2^63 epochs is damage, not a finished run.
  train::Trainer trainer(recipe);
  const train::TrainState state = trainer.check_checkpoint(ck, loaded.path);
  if (state.epoch >= recipe.train.epochs) {
    tidy_checkpoints(files.dir, state.step, recipe.output.keep);
    fmt::print(
        "sculpt: run {} is already complete: its checkpoint is at epoch {} and "
        "train.epochs = {}\n",
        files.dir, state.epoch, recipe.train.epochs);
    fmt::print("train it further with: {} train --resume {} --set train.epochs=N\n", program_name(),
               files.dir);
    return 0;
  }
  trainer.restore(ck, loaded.path);
  // From here the directory changes: recipe.toml records the new length, metrics.jsonl loses
  // what the checkpoint does not cover.
  write_text_file(files.recipe, to_toml(recipe));
  // Inside an epoch, that epoch's step records up to the checkpoint stay.
  const int64_t epoch_begun = state.epoch + (state.progress ? 1 : 0);
  const ResumePoint at{.epoch = state.epoch,
                       .step = state.step,
                       .dropped = trim_metrics(files.metrics, epoch_begun, state.step)};
  return train_into(trainer, recipe, files.dir, at, t_start);
}

int run_train(const TrainArgs& a) { return a.resume.empty() ? run_new(a) : run_resume(a); }

}  // namespace

void add_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* sub = app.add_subcommand("train", "Train a model from a recipe");
  sub->add_option("--recipe,-r", args->recipe, "Recipe file (TOML)");
  sub->add_option("--resume", args->resume,
                  "Continue the run in RUN_DIR from its last checkpoint (--set may change only "
                  "train.epochs and output.*)");
  sub->add_option("--set,-s", args->sets, "Override a recipe value: table.key=value (repeatable)")
      ->take_all();
  sub->add_option("--out,-o", args->out, "Run directory (default: <output.dir>/<name>-<time>)");
  sub->add_flag("--quiet,-q", args->quiet, "No progress output (summary only)");
  add_force_flag(sub, args->force);
  register_verb(sub, [args] { return run_train(*args); });
}

}  // namespace sculpt::cli
