// A training run in a run directory, as `sculpt train` does it and a C++ program can: the
// recipe in recipe.toml, every step and epoch in metrics.jsonl, checkpoints at the start, every
// output.checkpoint_every steps, after each epoch and when a stop is requested, exact resume
// from the newest valid checkpoint, and report.html at the end. Printing is left to the hooks.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/recipe.h"
#include "train/trainer.h"

namespace sculpt::run {

// Where a resumed run picks up.
struct ResumePoint {
  int64_t epoch = 0, step = 0;
  int64_t dropped = 0;  // metrics.jsonl lines removed (see trim_metrics)
};

// How train() ended.
struct Outcome {
  bool stopped = false;  // by request_stop(); the checkpoint is saved when output.checkpoint
  int stop_code = 0;     // what request_stop() was given (a signal number, for the CLI)
  train::EpochEvent last;
  double wall_seconds = 0.0;   // since the run object was made
  double samples_per_s = 0.0;  // training samples per second of training time
};

class Run {
 public:
  // A new run of `recipe` in `dir`, or with `dir` empty in <output.dir>/<name>-<time> (name:
  // output.name, else the recipe file's stem). The trainer is built first, so data and model
  // errors come before any file; then `before_writing` runs (the CLI clears a --force'd
  // directory there), the directory is made with checkpoints/ and recipe.toml is written.
  static std::unique_ptr<Run> start(RecipeConfig recipe, const std::string& dir = {},
                                    const std::function<void()>& before_writing = {});
  // Continues the run in `dir` from its newest valid checkpoint, with `overrides` ("key=value",
  // train.epochs and output.* only: anything else is a ConfigError, as the run would not be the
  // same run). Everything is checked before anything changes; when the checkpoint is already
  // at train.epochs, complete() is true, resumed() says where it stands and train() does
  // nothing.
  static std::unique_ptr<Run> resume(const std::string& dir,
                                     const std::vector<std::string>& overrides = {});

  train::Trainer& trainer() { return *trainer_; }
  const train::Trainer& trainer() const { return *trainer_; }
  const RecipeConfig& recipe() const { return recipe_; }
  const std::string& dir() const { return dir_; }
  const std::optional<ResumePoint>& resumed() const { return resumed_; }
  bool complete() const { return complete_; }

  // Trains every remaining epoch, writing metrics.jsonl and the checkpoints; `hooks` run after
  // each step and epoch (before its checkpoint). A stop request is honoured after the step or
  // epoch it arrives in: the checkpoint is saved and train() returns with stopped = true.
  // Errors (a non-finite step under train.nonfinite = "stop", a full disk) propagate.
  Outcome train(const train::TrainHooks& hooks = {});
  // Asks train() to stop; safe from a signal handler's flag or another thread.
  void request_stop(int code = 1) { stop_.store(code == 0 ? 1 : code); }

 private:
  Run(RecipeConfig recipe, std::string dir);
  void checkpoint();

  RecipeConfig recipe_;
  std::string dir_;
  std::unique_ptr<train::Trainer> trainer_;
  std::optional<ResumePoint> resumed_;
  bool complete_ = false;
  int64_t saved_step_ = -1;
  std::atomic<int> stop_{0};
  double t0_ = 0.0;  // steady-clock seconds at construction
};

// The keys a resume may not change among `overrides` ("key=value"); empty when all may change.
std::vector<std::string> resume_forbidden(const std::vector<std::string>& overrides);

}  // namespace sculpt::run
