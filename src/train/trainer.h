// Trainer: builds a run from a recipe (data, model, parameters, loss, optimizer, schedule) and
// drives epochs of train_step with per-epoch validation and test evaluation. Reporting is
// left to hooks so the loop stays free of I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "clip/clipper.h"
#include "core/param_store.h"
#include "core/run_context.h"
#include "data/batcher.h"
#include "data/load.h"
#include "io/recipe.h"
#include "io/safetensors.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "prune/mask.h"
#include "sched/schedule.h"
#include "train/evaluate.h"
#include "train/resume.h"
#include "train/step.h"

namespace sculpt::train {

struct StepEvent {
  int64_t epoch = 0;          // 1-based
  int64_t step_in_epoch = 0;  // 1-based, in optimizer steps
  int64_t steps_per_epoch = 0;
  int64_t step = 0;     // global, 1-based count of steps done
  int64_t samples = 0;  // in this step (all its micro-batches)
  StepResult result;
};

struct EpochEvent {
  int64_t epoch = 0;
  int64_t step = 0;
  double train_loss = 0.0, train_acc = 0.0;
  EvalResult val, test;
  double seconds = 0.0;  // training time of this epoch (evaluation excluded)
  double samples_per_s = 0.0;
  bool lr_reduced = false;  // reduce-on-plateau lowered the rate after this epoch
  int64_t skipped = 0;      // steps dropped for non-finite values (train.nonfinite = "skip")
  // Gradient telemetry over the epoch's steps: pre-clip global norms, how many steps clipped,
  // and per tensor the root mean square of its pre-clip norm over every 10th step.
  int64_t steps = 0, clipped_steps = 0;
  double grad_norm_mean = 0.0, grad_norm_max = 0.0;
  std::vector<std::pair<std::string, double>> tensor_grad_norms;
};

struct TrainHooks {
  std::function<void(const StepEvent&)> on_step;
  std::function<void(const EpochEvent&)> on_epoch;
};

class Trainer {
 public:
  // Loads the data, builds and initialises the model, the loss and the optimizer.
  explicit Trainer(Recipe recipe);
  // The batcher refers to splits_: a Trainer stays where it was built.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Runs every remaining epoch of the recipe; returns the last epoch's event.
  EpochEvent run(const TrainHooks& hooks);
  // One pass over the training set (evaluation not included).
  EpochEvent train_epoch(const TrainHooks& hooks);
  EvalResult evaluate_split(const data::Dataset& ds);

  // Parameters, optimizer state (opt.<state>.<param>), the training state and the recipe as a
  // checkpoint file (docs/formats.md). Called between epochs, it holds everything the rest of
  // the run depends on.
  void save_checkpoint(const std::string& path) const;
  // Exact resume from a checkpoint of this run: continuing equals never having stopped, bit for
  // bit on the same thread count. Checks everything first (see check_checkpoint) and changes
  // nothing if a check fails; then restores the weights, optimizer state, epoch, step and the
  // random streams. `where` names the file in errors.
  void restore(const io::Checkpoint& ck, const std::string& where = {});
  // The checks of restore(), in order: a Sculpt checkpoint with training state; every parameter
  // and optimizer-state tensor by name and shape, all mismatches in one error (DataError, or
  // ShapeError when only shapes differ); step and epoch consistent with the data; the same
  // input normalisation (DataError: the data changed); the same recipe apart from keys a resume
  // may change (ConfigError naming each differing key). Returns the state restore() would set.
  TrainState check_checkpoint(const io::Checkpoint& ck, const std::string& where = {}) const;

  const Recipe& recipe() const { return recipe_; }
  nn::Model& model() { return model_; }
  ParamStore& params() { return params_; }
  const data::Splits& splits() const { return splits_; }
  const sched::Schedule& schedule() const { return *schedule_; }
  const clip::Clipper& clipper() const { return *clipper_; }
  bool clips() const { return recipe_.clip.name != "none"; }
  // Optimizer steps per epoch: batches grouped by train.accumulate (the last group may be short).
  int64_t steps_per_epoch() const {
    return (batcher_->batches_per_epoch() + recipe_.train.accumulate - 1) / recipe_.train.accumulate;
  }
  int64_t total_steps() const { return recipe_.train.epochs * steps_per_epoch(); }
  // Feeds the epoch's metrics to reduce-on-plateau (run() does it after evaluation); returns
  // whether the rate was lowered.
  bool observe_epoch(const EpochEvent& ev);
  int64_t epoch() const { return epoch_; }
  int64_t step() const { return step_; }
  int threads() const { return ctx_.threads; }

  // Side runs: steps with another schedule that must leave no trace (the LR range test,
  // train/lr_find.h). Take a snapshot, run train_steps, restore the snapshot.

  // Everything train_steps changes: the weights, the optimizer state and its momentum
  // coefficient (when the schedule cycles it), the step counter and the data-order stream. The
  // batcher's position is not kept: train_epoch starts every epoch by reshuffling from the
  // stream, so take snapshots between epochs (not from a step hook).
  struct Snapshot {
    AlignedVector<float> params;                        // the whole arena
    std::vector<AlignedVector<float>> optimizer_state;  // in the order of optimizer state()
    double momentum = 0.0;
    int64_t epoch = 0, step = 0;
    std::array<uint64_t, 4> data_rng{};
  };
  Snapshot snapshot() const;
  // Puts back exactly (bit for bit) what snapshot() saw. Requires a snapshot of this trainer.
  void restore(const Snapshot& s);

  // Runs up to `max_steps` training steps with `schedule` in place of the recipe's, through the
  // same train_step (optimizer, clipping, masks, the non-finite policy and the configured
  // momentum, all as the recipe says). Batches come from the training set: a new epoch (a fresh
  // shuffle) starts at the first step and whenever one runs out. The step counter advances as
  // in train_epoch, so the schedule and the optimizer see global steps (the first is step());
  // the epoch counter does not move. After each step `keep_going(result)` decides whether to
  // continue. Returns the steps run (skipped ones included). Throws NumericError as train_step
  // does, after the steps before it took effect.
  int64_t train_steps(int64_t max_steps, const sched::Schedule& schedule,
                      const std::function<bool(const StepResult&)>& keep_going);

 private:
  Recipe recipe_;
  RunContext ctx_;
  data::Splits splits_;
  nn::Model model_;
  ParamStore params_;
  std::unique_ptr<loss::Loss> loss_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  // The parts of a step for `schedule`, and the dropout key of micro-batch `micro` of the step.
  StepParts step_parts(const sched::Schedule& schedule);
  uint64_t dropout_key(int64_t micro) const;
  // Counts consecutive skipped steps; throws NumericError at train.max_skips of them.
  void count_skip(const StepResult& r);

  std::unique_ptr<sched::Schedule> schedule_;
  int64_t skips_in_a_row_ = 0;
  double* momentum_ = nullptr;  // the optimizer's coefficient, when the schedule cycles it
  double default_momentum_ = 0.0;
  std::unique_ptr<clip::Clipper> clipper_;
  std::vector<double> tensor_sumsq_;  // per-tensor telemetry of a sampled step
  prune::Masks masks_;
  std::unique_ptr<data::Batcher> batcher_;
  AlignedVector<float> dlogits_;
  uint64_t dropout_key_ = 0;
  int64_t epoch_ = 0;  // epochs completed
  int64_t step_ = 0;   // optimizer steps taken

};

// The loss a task gets when the recipe says "auto".
std::string default_loss(data::Task task);

}  // namespace sculpt::train
