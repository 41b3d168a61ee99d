// A training run in its run directory, exactly as `sculpt train` does it: the resolved recipe
// in recipe.toml, every step and epoch in metrics.jsonl, checkpoints (at the start, every
// output.checkpoint_every steps, after each epoch, on a stop request), exact resume from the
// newest valid checkpoint, report.html; then pruning, evaluation and export of the result.
//
//   sculpt::Run run = sculpt::Run::start(sculpt::Recipe::load("recipes/mlp.toml"));
//   sculpt::Callbacks callbacks;
//   callbacks.on_epoch = [](const sculpt::EpochRecord& e) { ... };   // your progress
//   sculpt::RunResult r = run.train(callbacks);
//   run.export_model(run.dir() + "/model.sculpt");
//
// Nothing is printed: the callbacks see what `sculpt train` prints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sculpt/data.h"
#include "sculpt/model.h"
#include "sculpt/recipe.h"

namespace sculpt {

struct Evaluation {
  double loss = 0.0;      // mean over the samples
  double accuracy = 0.0;  // fraction in [0, 1]; 0 for regression
  int64_t samples = 0;
};

// After every optimizer step.
struct StepRecord {
  int64_t epoch = 0;          // 1-based
  int64_t step = 0;           // global count of steps done
  int64_t step_in_epoch = 0;  // 1-based
  int64_t steps_per_epoch = 0;
  double loss = 0.0;
  double lr = 0.0;
  double grad_norm = 0.0;  // global L2 norm of the gradient before clipping
  bool clipped = false;
  bool skipped = false;    // non-finite values under train.nonfinite = "skip"
  double sparsity = -1.0;  // >= 0: pruning updated the masks after this step
};

// After every epoch, once it is evaluated.
struct EpochRecord {
  int64_t epoch = 0, step = 0;
  double train_loss = 0.0, train_accuracy = 0.0;
  Evaluation val, test;
  double seconds = 0.0;  // training time of the epoch (evaluation excluded)
  double samples_per_s = 0.0;
  int64_t clipped_steps = 0, skipped_steps = 0;
  double grad_norm_mean = 0.0, grad_norm_max = 0.0;
  double sparsity = 0.0;  // fraction of the prunable layers' weights that are pruned
};

struct Callbacks {
  std::function<void(const StepRecord&)> on_step;
  std::function<void(const EpochRecord&)> on_epoch;
};

struct RunResult {
  bool stopped = false;  // by request_stop(); the checkpoint was saved
  EpochRecord last;      // the last epoch trained
  double wall_seconds = 0.0;
  double samples_per_s = 0.0;  // training samples per second of training time
};

struct ExportOptions {
  std::string format = "auto";  // auto (the smallest per tensor) | dense | sparse
  bool fp16 = false;            // values as IEEE half precision
  bool surgery = true;          // remove the units structured pruning left dead
};

struct ExportResult {
  std::string path;
  int64_t bytes = 0;
  int64_t params = 0, nonzeros = 0;
};

class Run {
 public:
  // A new run of `recipe` in `dir`, or with `dir` empty in <output.dir>/<name>-<time>. Data and
  // model errors come before any file is written.
  static Run start(const Recipe& recipe, const std::string& dir = {});
  // Continues the run in `dir` from its newest valid checkpoint. `overrides` may change
  // train.epochs and output.* only (anything else would not be the same run: ConfigError).
  static Run resume(const std::string& dir, const std::vector<std::string>& overrides = {});

  // Trains every remaining epoch. A stop request is honoured after the step it arrives in: the
  // checkpoint is saved and the result says stopped. NumericError for a non-finite step under
  // train.nonfinite = "stop"; IoError for a full disk.
  RunResult train(const Callbacks& callbacks = {});
  // Asks train() to stop; safe from another thread or a callback.
  void request_stop();

  // Prunes the trained model once, to the [prune] table of the recipe with `settings`
  // ("key=value" of that table, e.g. {"sparsity=0.9", "granularity=neuron"}) applied; criteria
  // that need gradients score on the validation split. Returns the weight sparsity. The
  // pruned weights stay zero in later training, evaluation and export.
  double prune(const std::vector<std::string>& settings = {});
  // Loss and accuracy on "train", "val" or "test" under the current weights and masks.
  Evaluation evaluate(const std::string& split = "test");
  // The samples of "train", "val" or "test", e.g. to check an export on.
  Samples samples(const std::string& split = "test") const;
  // Writes the model for InferenceModel and `sculpt infer`; IoError when it cannot.
  ExportResult export_model(const std::string& path, const ExportOptions& options = {}) const;
  // Writes report.html from the run's files; returns its path. IoError when it cannot.
  std::string write_report() const;

  const std::string& dir() const;
  Recipe recipe() const;  // as resolved and saved in recipe.toml
  ModelSummary model() const;
  bool complete() const;  // every epoch of the recipe is trained
  int64_t epoch() const;
  int64_t step() const;

  Run(Run&&) noexcept;
  Run& operator=(Run&&) noexcept;
  ~Run();

 private:
  struct Impl;
  explicit Run(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sculpt
