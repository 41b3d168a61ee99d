// A training run in its directory: metrics, checkpoint cadence, stop requests, exact resume.
#include "run/run.h"

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "core/error.h"
#include "report/metrics.h"
#include "run/checkpoints.h"
#include "run/run_dir.h"
#include "run/train_log.h"
#include "train/checkpoint.h"

namespace sculpt::run {

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Thrown from a hook to leave Trainer::run once a stop request is honoured.
struct Stopped {};

}  // namespace

std::vector<std::string> resume_forbidden(const std::vector<std::string>& overrides) {
  std::vector<std::string> out;
  for (const std::string& s : overrides) {
    const std::string_view key = trimmed(std::string_view(s).substr(0, s.find('=')));
    if (!train::resume_may_change(key)) out.emplace_back(key);
  }
  return out;
}

Run::Run(RecipeConfig recipe, std::string dir)
    : recipe_(std::move(recipe)), dir_(std::move(dir)), t0_(now_seconds()) {
  trainer_ = std::make_unique<train::Trainer>(recipe_);
}

std::unique_ptr<Run> Run::start(RecipeConfig recipe, const std::string& dir,
                                const std::function<void()>& before_writing) {
  std::unique_ptr<Run> r(new Run(std::move(recipe), dir));
  if (before_writing) before_writing();
  r->dir_ = make_run_dir(r->recipe_, r->recipe_.source, dir);
  write_text_file(r->dir_ + "/recipe.toml", to_toml(r->recipe_));
  return r;
}

std::unique_ptr<Run> Run::resume(const std::string& dir,
                                 const std::vector<std::string>& overrides) {
  const std::vector<std::string> forbidden = resume_forbidden(overrides);
  if (!forbidden.empty())
    throw ConfigError(
        fmt::format("--set {} on --resume: the run would no longer be the same run as its "
                    "checkpoint's",
                    fmt::join(forbidden, ", ")),
        "sculpt train --resume",
        "a resume may change only train.epochs and output.*; to change anything else start a "
        "new run: sculpt train --recipe RUN_DIR/recipe.toml --set ...");
  const RunFiles files = resume_files(dir);
  const LoadedCheckpoint loaded = newest_valid_checkpoint(files.dir);
  std::unique_ptr<Run> r(new Run(load_recipe(files.recipe, overrides), files.dir));
  // Everything is checked (training state, tensors, data, recipe) before the run is called
  // complete: a checkpoint claiming 2^63 epochs is damage, not a finished run.
  const train::TrainState state = r->trainer_->check_checkpoint(loaded.ck, loaded.path);
  if (state.epoch >= r->recipe_.train.epochs) {
    tidy_checkpoints(files.dir, state.step, r->recipe_.output.keep);
    r->complete_ = true;
    r->resumed_ = ResumePoint{.epoch = state.epoch, .step = state.step, .dropped = 0};
    return r;
  }
  r->trainer_->restore(loaded.ck, loaded.path);
  // From here the directory changes: recipe.toml records the new length, metrics.jsonl loses
  // what the checkpoint does not cover (inside an epoch, its step records up to the checkpoint
  // stay).
  write_text_file(files.recipe, to_toml(r->recipe_));
  r->resumed_ = ResumePoint{.epoch = state.epoch,
                            .step = state.step,
                            .dropped = trim_metrics(files.metrics, state.epoch, state.step,
                                                    state.progress.has_value())};
  r->saved_step_ = state.step;
  return r;
}

void Run::checkpoint() {
  if (!recipe_.output.checkpoint) return;
  save_run_checkpoint(*trainer_, dir_, recipe_.output.keep);
  saved_step_ = trainer_->step();
}

Outcome Run::train(const train::TrainHooks& hooks) {
  Outcome out;
  if (complete_) return out;
  train::Trainer& t = *trainer_;
  const bool regression = t.splits().train.task == data::Task::kRegression;
  report::MetricsWriter metrics(dir_ + "/metrics.jsonl", /*accuracy=*/!regression);
  if (resumed_) {
    report::MetricsRecord r;
    r.event = "resume";
    r.step = resumed_->step;
    r.epoch = resumed_->epoch;
    r.extra["dropped"] = static_cast<double>(resumed_->dropped);
    metrics.write(r);
  } else if (saved_step_ < 0) {
    checkpoint();  // a kill at any moment leaves a checkpoint to resume from
  }
  StepLog step_log(metrics, t, regression);
  const auto stop_if_asked = [&] {
    if (stop_.load() == 0) return;
    if (saved_step_ != t.step()) checkpoint();
    throw Stopped{};
  };
  const int64_t every = recipe_.output.checkpoint_every;
  double train_seconds = 0.0;
  train::TrainHooks inner;
  inner.on_step = [&](const train::StepEvent& e) {
    if (hooks.on_step) hooks.on_step(e);
    step_log(e);
    if (every > 0 && e.step % every == 0 && e.step != saved_step_) checkpoint();
    stop_if_asked();
  };
  inner.on_epoch = [&](const train::EpochEvent& e) {
    if (hooks.on_epoch) hooks.on_epoch(e);
    train_seconds += e.seconds;
    metrics.write(epoch_record(e, t, regression));
    checkpoint();
    stop_if_asked();
  };
  const int64_t first_epoch = t.epoch();
  try {
    out.last = t.run(inner);
  } catch (const Stopped&) {
    out.stopped = true;
    out.stop_code = stop_.load();
    out.wall_seconds = now_seconds() - t0_;
    return out;
  }
  out.wall_seconds = now_seconds() - t0_;
  const double epochs_run = double(recipe_.train.epochs - first_epoch);
  out.samples_per_s =
      train_seconds > 0 ? double(t.splits().train.size()) * epochs_run / train_seconds : 0.0;
  metrics.write(end_record(out.last, t, regression, out.wall_seconds, out.samples_per_s));
  return out;
}

}  // namespace sculpt::run
