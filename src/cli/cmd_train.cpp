// `sculpt train`: runs a recipe, writes the run directory (recipe.toml, metrics.jsonl,
// checkpoints/last.safetensors) and prints a summary; `--resume RUN_DIR` continues such a run
// from its last checkpoint in the same directory, exactly as if it had never stopped.
#include <fmt/format.h>

#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/output_guard.h"
#include "cli/signals.h"
#include "cli/verb.h"
#include "core/error.h"
#include "io/recipe.h"
#include "report/progress.h"
#include "report/prune_table.h"
#include "run/run.h"
#include "run/run_dir.h"
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

void print_summary(const train::EpochEvent& last, const data::Splits& sp, int64_t params,
                   double wall, double samples_per_s, const std::string& dir, bool checkpoint) {
  fmt::print("\n== summary ==\n");
  if (sp.train.task == data::Task::kRegression)
    fmt::print("test loss (mse): {:.6f}\n", last.test.loss);
  else
    fmt::print("test accuracy:   {:.2f}%  (loss {:.4f})\n", 100.0 * last.test.accuracy,
               last.test.loss);
  if (sp.train.positions > 1)  // next-token text
    fmt::print("test text:       {}\n", sp.vocabulary.perplexity_text(last.test.loss));
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
  std::string what =
      fmt::format("{} ({}, {})", c.criterion, text_of(c.granularity), text_of(c.scope));
  if (c.when == prune::When::kGradual)
    fmt::print("prune: gradual {} to {:.4g}%, {} ramp over steps {}..{}, every {} steps\n", what,
               100.0 * c.sparsity, text_of(c.ramp), p.begin_step(), p.end_step(), c.every);
  else
    fmt::print("prune: {} to {:.4g}% {}\n", what, 100.0 * c.sparsity,
               c.when == prune::When::kSnip ? "before the first step" : "after the last epoch");
}

// Trains the remaining epochs of `trainer` into the run directory `dir` and prints the summary.
// What the run is about to do: data, model, schedule and pruning plan.
void print_plan(const run::Run& r) {
  const train::Trainer& trainer = r.trainer();
  const RecipeConfig& recipe = r.recipe();
  const auto& sp = trainer.splits();
  if (const auto& at = r.resumed())
    fmt::print("sculpt: resuming {} at epoch {} of {} (step {})\n", r.dir(), at->epoch + 1,
               recipe.train.epochs, at->step);
  else
    fmt::print("sculpt: run directory {}\n", r.dir());
  fmt::print("data: {} train, {} val, {} test samples of shape {}\n", sp.train.size(),
             sp.val.size(), sp.test.size(), to_string(sp.train.sample_shape));
  if (recipe.train.tbptt) {
    const int64_t streams = recipe.train.batch_size, length = sp.train.size() / streams;
    fmt::print(
        "tbptt: {} streams of {} consecutive windows, in order (never shuffled), the recurrent "
        "state carried from batch to batch and zeroed at each epoch start; {} windows left over; "
        "evaluation starts every window from zero\n",
        streams, length, sp.train.size() - streams * length);
  }
  fmt::print("model: {} ({} parameters, {} threads)\n{}", recipe.model.name,
             trainer.params().num_params(), trainer.threads(),
             trainer.model().summary(trainer.params()));
  if (recipe.train.precision != Precision::kFp32) {
    const auto& fp32 = trainer.fp32_layers();
    fmt::print(
        "precision: {}{}\n", trainer.precision_path(),
        fp32.empty() ? "" : fmt::format("; in fp32 (no bf16 path): {}", fmt::join(fp32, ", ")));
  }
  const sched::Schedule& sc = trainer.schedule();
  const int64_t last = trainer.total_steps() - 1;
  fmt::print(
      "schedule: {}, lr {:.4g} at the start, {:.4g} at mid-run, {:.4g} at the end{}{} "
      "(`{} schedule` prints every step)\n",
      recipe.schedule.name, sc.at(0), sc.at(last / 2), sc.at(last),
      sc.cycles_momentum() ? "; cycles the momentum" : "",
      sc.watches() ? fmt::format("; lowered when {} stalls", sc.metric()) : "", program_name());
  if (const prune::Pruner* p = trainer.pruner()) print_prune_plan(*p);
  std::fflush(stdout);
}

// Trains the run with a progress bar, stops it cleanly on SIGINT/SIGTERM, prints the summary.
int train_into(run::Run& r) {
  const train::Trainer& trainer = r.trainer();
  const RecipeConfig& recipe = r.recipe();
  const bool talk = recipe.output.progress != "none";
  if (talk) print_plan(r);
  const bool regression = trainer.splits().train.task == data::Task::kRegression;
  report::Progress progress(recipe.output.progress, recipe.train.epochs, /*accuracy=*/!regression);
  progress.set_positions(trainer.splits().train.positions);
  const bool clips = trainer.clips();
  train::TrainHooks hooks;
  hooks.on_step = [&](const train::StepEvent& e) {
    progress.tick(e.epoch, e.step_in_epoch, e.steps_per_epoch, e.result.loss, e.result.correct,
                  e.samples, e.result.lr,
                  clips ? std::optional<bool>(e.result.clip.clipped_any) : std::nullopt);
    if (const int sig = stop_signal()) r.request_stop(sig);
  };
  hooks.on_epoch = [&](const train::EpochEvent& e) {
    progress.epoch_end(e);
    if (e.lr_reduced && talk)
      fmt::print(
          "reduce-on-plateau: {} stalled, the rate is now {:.4g} (x{:.4g} of the "
          "schedule)\n",
          trainer.schedule().metric(), trainer.schedule().at(trainer.step()),
          trainer.schedule().plateau_state().scale);
    if (const int sig = stop_signal()) r.request_stop(sig);
  };
  catch_stop_signals();
  const run::Outcome out = r.train(hooks);
  progress.finish();
  if (out.stopped) {
    std::fflush(stdout);
    fmt::print(stderr, "\nsculpt: stopped by {} at step {}",
               out.stop_code == SIGINT ? "SIGINT" : "SIGTERM", trainer.step());
    if (recipe.output.checkpoint)
      fmt::print(stderr, "; checkpoint saved. Continue with: {} train --resume {}\n",
                 program_name(), r.dir());
    else
      fmt::print(stderr, "; no checkpoint (output.checkpoint = false)\n");
    return 128 + out.stop_code;
  }
  print_summary(out.last, trainer.splits(), trainer.params().num_params(), out.wall_seconds,
                out.samples_per_s, r.dir(), recipe.output.checkpoint);
  if (!trainer.masks().empty())
    fmt::print("\npruned to {:.1f}% sparsity:\n{}", 100.0 * trainer.sparsity(),
               report::format_prune_table(trainer.prunable(), trainer.prune_stats()));
  report_run(r.dir());
  return 0;
}

int run_new(const TrainArgs& a) {
  SCULPT_CHECK(!a.recipe.empty(), ConfigError,
               "give --recipe FILE to start a run or --resume RUN_DIR to continue one",
               "sculpt train", "recipes/ holds examples");
  std::vector<std::string> overrides = a.sets;
  if (a.quiet) overrides.push_back("output.progress=none");
  RecipeConfig recipe = load_recipe(a.recipe, overrides);
  if (!a.out.empty())
    check_run_dir(a.out, {a.recipe, recipe.data.path, recipe.data.test_path}, a.force);
  // Data and model errors surface before any file is written.
  const auto r = run::Run::start(std::move(recipe), a.out, [&] {
    if (a.force && !a.out.empty()) clear_previous_run(a.out);
  });
  return train_into(*r);
}

int run_resume(const TrainArgs& a) {
  SCULPT_CHECK(a.recipe.empty(), ConfigError, "--recipe and --resume cannot be combined",
               "sculpt train",
               "a resumed run reads RUN_DIR/recipe.toml; lengthen it with --set "
               "train.epochs=N, or drop --resume to start a new run");
  SCULPT_CHECK(a.out.empty(), ConfigError, "--out and --resume cannot be combined", "sculpt train",
               "a resumed run continues in its own directory");
  std::vector<std::string> overrides = a.sets;
  if (a.quiet) overrides.push_back("output.progress=none");
  const auto r = run::Run::resume(a.resume, overrides);
  if (r->complete()) {
    fmt::print(
        "sculpt: run {} is already complete: its checkpoint is at epoch {} and "
        "train.epochs = {}\n",
        r->dir(), r->resumed()->epoch, r->recipe().train.epochs);
    fmt::print("train it further with: {} train --resume {} --set train.epochs=N\n", program_name(),
               r->dir());
    return 0;
  }
  return train_into(*r);
}

int run_train(const TrainArgs& a) { return a.resume.empty() ? run_new(a) : run_resume(a); }

}  // namespace

void report_run(const std::string& dir) {
  try {
    const std::string text = write_report(dir);
    fmt::print("\n{}report: {}\n", text, (std::filesystem::path(dir) / "report.html").string());
  } catch (const Error& e) {
    std::fflush(stdout);
    fmt::print(stderr, "sculpt: warning: the run report was not written: {}\n", e.what());
  }
  std::fflush(stdout);
}

void add_train(CLI::App& app) {
  const auto [sub, args] =
      add_verb<TrainArgs>(app, "train", "Train a model from a recipe", run_train);
  add_recipe_option(sub, args->recipe);
  sub->add_option("--resume", args->resume,
                  "Continue the run in RUN_DIR from its last checkpoint (--set may change only "
                  "train.epochs and output.*)");
  add_set_option(sub, args->sets);
  sub->add_option("--out,-o", args->out, "Run directory (default: <output.dir>/<name>-<time>)");
  sub->add_flag("--quiet,-q", args->quiet, "No progress output (summary only)");
  add_force_flag(sub, args->force);
}

}  // namespace sculpt::cli
