// Trainer: builds a run from a recipe (data, model, parameters, loss, optimizer, schedule) and
// drives epochs of train_step with per-epoch validation and test evaluation. Reporting is
// left to hooks so the loop stays free of I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "clip/clipper.h"
#include "core/masks.h"
#include "core/param_store.h"
#include "core/run_context.h"
#include "data/batcher.h"
#include "data/load.h"
#include "io/checkpoint.h"
#include "io/recipe.h"
#include "io/safetensors.h"
#include "loss/loss.h"
#include "nn/model.h"
#include "optim/optimizer.h"
#include "prune/pruner.h"
#include "prune/select.h"
#include "prune/structure.h"
#include "sched/schedule.h"
#include "train/checkpoint.h"
#include "train/evaluate.h"
#include "train/step.h"

namespace sculpt::nn {
class Recurrent;
}

namespace sculpt::train {

struct StepEvent {
  int64_t epoch = 0;          // 1-based
  int64_t step_in_epoch = 0;  // 1-based, in optimizer steps
  int64_t steps_per_epoch = 0;
  int64_t step = 0;     // global, 1-based count of steps done
  int64_t samples = 0;  // in this step (all its micro-batches)
  StepResult result;
  double sparsity = -1.0;  // >= 0: pruning updated the mask after this step (weight sparsity)
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
  double sparsity = 0.0;  // fraction of the prunable layers' weights that are pruned
};

struct TrainHooks {
  std::function<void(const StepEvent&)> on_step;
  std::function<void(const EpochEvent&)> on_epoch;
};

class Trainer {
 public:
  // Loads the data, builds and initialises the model, the loss and the optimizer.
  explicit Trainer(RecipeConfig recipe);
  // The batcher refers to splits_: a Trainer stays where it was built.
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Runs every remaining epoch of the recipe; returns the last epoch's event.
  EpochEvent run(const TrainHooks& hooks);
  // One pass over the training set (evaluation not included).
  EpochEvent train_epoch(const TrainHooks& hooks);
  EvalResult evaluate_split(const data::Dataset& ds);

  // Parameters, optimizer state (opt.<state>.<param>), the training state and the recipe as a
  // checkpoint file (docs/formats.md): everything the rest of the run depends on. Between
  // epochs, or from a step hook (then with the epoch's position and counts so far).
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

  const RecipeConfig& recipe() const { return recipe_; }
  nn::Model& model() { return model_; }
  const nn::Model& model() const { return model_; }
  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  const data::Splits& splits() const { return splits_; }
  const sched::Schedule& schedule() const { return *schedule_; }
  const clip::Clipper& clipper() const { return *clipper_; }
  bool clips() const { return recipe_.clip.name != "none"; }
  // Optimizer steps per epoch: batches grouped by train.accumulate (the last group may be short).
  int64_t steps_per_epoch() const {
    const int64_t b = batcher_->batches_per_epoch(), a = recipe_.train.accumulate;
    return b / a + (b % a != 0);
  }
  // At most kMaxSteps: the constructor refuses a longer run.
  int64_t total_steps() const { return recipe_.train.epochs * steps_per_epoch(); }
  // Feeds the epoch's metrics to reduce-on-plateau (run() does it after evaluation); returns
  // whether the rate was lowered.
  bool observe_epoch(const EpochEvent& ev);
  int64_t epoch() const { return epoch_; }
  int64_t step() const { return step_; }
  int threads() const { return ctx_.threads; }
  // train.precision as it runs: "fp32", or the bf16 path oneDNN took for the first linear
  // layer, and the layers that keep fp32 (no bf16 path).
  const std::string& precision_path() const { return precision_path_; }
  const std::vector<std::string>& fp32_layers() const { return fp32_layers_; }

  // Pruning (trainer_prune.cpp). The masks are empty until something is pruned; [prune]
  // with when != "none" prunes during training (train_epoch and run call it).
  const Masks& masks() const { return masks_; }
  const std::vector<prune::PrunableLayer>& prunable() const { return prunable_.layers; }
  const prune::Pruner* pruner() const { return pruner_.get(); }
  // Prunes once by `cfg` to cfg.sparsity (or cfg.threshold): criteria that need gradients
  // sum them over cfg.batches batches of `scoring` (never the test split) without updating
  // anything. Then clears the optimizer state of pruned entries. Returns the weight sparsity.
  double prune_once(const prune::PruneConfig& cfg, const data::Dataset& scoring);
  // Per-layer counts (parameters, kept, units, FLOPs) under the current masks.
  std::vector<prune::LayerStats> prune_stats() const;
  double sparsity() const { return prune::weight_sparsity(prunable_.layers, params_, masks_); }
  // Starts from another run's weights: the parameters of `ck` and its masks (when it has
  // any), with fresh optimizer state at step 0. For fine-tuning a pruned model with a new
  // schedule; the checkpoint's recipe is not compared. Errors as restore_params; DataError for
  // a mask that is not 0/1. With `rewind`, the weights come from the checkpoint's rewind.*
  // tensors (lottery-ticket rewinding) and the masks still from its mask.* tensors.
  void load_weights(const io::Checkpoint& ck, const std::string& where, bool rewind = false);
  // Forgets every mask (the weights stay as they are).
  void reset_masks() { masks_ = {}; }
  // The weights kept at prune.rewind_step (empty before it, or without rewinding).
  const AlignedVector<float>& rewind_weights() const { return rewind_; }

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
  // same step_batches (train.accumulate micro-batches a step, optimizer, clipping, masks, the
  // non-finite policy and the configured momentum, all as the recipe says). Batches come from the
  // training set: a new epoch (a fresh shuffle) starts at the first step and whenever one runs out.
  // The step counter advances as in train_epoch, so the schedule and the optimizer see global steps
  // (the first is step()); the epoch counter does not move. After each step `keep_going(result)`
  // decides whether to continue. Returns the steps run (skipped ones included). Throws NumericError
  // as train_step does, after the steps before it took effect.
  int64_t train_steps(int64_t max_steps, const sched::Schedule& schedule,
                      const std::function<bool(const StepResult&)>& keep_going);

 private:
  RecipeConfig recipe_;
  RunContext ctx_;
  data::Splits splits_;
  nn::Model model_;
  ParamStore params_;
  std::unique_ptr<loss::Loss> loss_;
  std::unique_ptr<optim::Optimizer> optimizer_;
  // The parts of a step for `schedule`.
  StepParts step_parts(const sched::Schedule& schedule);
  // Adds a step that was taken to the epoch's telemetry (tensor norms when `sampled`).
  void add_step(EpochProgress& p, const StepResult& r, bool sampled) const;
  // The epoch's event from its counts.
  void epoch_summary(const EpochProgress& p, EpochEvent& ev) const;
  // Counts consecutive skipped steps; throws NumericError at train.max_skips of them.
  void count_skip(const StepResult& r);

  std::unique_ptr<sched::Schedule> schedule_;
  int64_t skips_in_a_row_ = 0;
  double* momentum_ = nullptr;  // the optimizer's coefficient, when the schedule cycles it
  double default_momentum_ = 0.0;
  std::unique_ptr<clip::Clipper> clipper_;
  std::vector<double> tensor_sumsq_;
  std::string precision_path_ = "fp32";
  std::vector<std::string> fp32_layers_;  // per-tensor telemetry of a sampled step
  Masks masks_;
  prune::Structure prunable_;
  std::unique_ptr<prune::Pruner> pruner_;  // [prune] when != "none"
  AlignedVector<float> rewind_;            // weights at prune.rewind_step
  void setup_pruning();                    // from the constructor
  void describe_precision();               // from the constructor: precision_path_
  void prune_at_start();                   // when = "snip": before the first step
  void prune_at_end();  // when = "at-end": after the last epoch, before its evaluation
  // Sums a criterion's gradient statistic over `batches` batches of `ds` (no update).
  void score_batches(prune::Pruner& pruner, const data::Dataset& ds, int64_t batches);
  // After step_ steps: feeds the pruner, updates the mask when due, keeps rewind weights.
  // Returns the new weight sparsity when the mask changed, else -1.
  double after_step();
  // Pruning state in checkpoints: masks (mask.<param>), the criterion's statistic
  // (prune.stat.<param>) and rewind weights (rewind.<param>).
  void prune_tensors(std::vector<io::NamedTensor>& out) const;
  // Adds the pruning tensors `ck` must hold to `out`; DataError when a mask is not 0/1.
  void expect_prune_tensors(const io::Checkpoint& ck, std::vector<io::TensorSpec>& out,
                            const std::string& where) const;
  void restore_prune_tensors(const io::Checkpoint& ck);
  // The checks of check_checkpoint, in its order (checkpoint.cpp).
  void check_tensors(const io::Checkpoint& ck, const std::string& where) const;
  void check_position(const TrainState& state, const std::string& where) const;
  RecipeConfig check_same_run(const io::Checkpoint& ck, const TrainState& state,
                              const std::string& where) const;
  void check_epochs_change(const RecipeConfig& saved, const std::string& where) const;
  // Copies the tensors "<prefix><param>" of ck into an arena-sized array (padding 0).
  void load_tensors(const io::Checkpoint& ck, const std::string& prefix,
                    AlignedVector<float>& dst) const;
  // Truncated backpropagation through time (train.tbptt; trainer_tbptt.cpp): the recurrent
  // layers whose state is carried from batch to batch, in model order (empty without tbptt).
  std::vector<nn::Recurrent*> carried_;
  std::vector<std::vector<float>> resume_carry_;  // a mid-epoch checkpoint's, for train_epoch
  void setup_tbptt();                             // from the constructor: stream order, carry on
  void set_carry(bool on);                        // off while pruning criteria score batches
  void start_carry();  // epoch start: zero, or resume_carry_ after a restore
  // Checkpoints inside an epoch hold each carried state as "carry.<layer>" [batch_size, P*H].
  void carry_tensors(std::vector<io::NamedTensor>& out) const;
  void check_carry(const io::Checkpoint& ck, const TrainState& state,
                   const std::string& where) const;
  void restore_carry(const io::Checkpoint& ck, const TrainState& state);
  std::unique_ptr<data::Batcher> batcher_;
  AlignedVector<float> dlogits_;
  uint64_t dropout_key_ = 0;
  int64_t epoch_ = 0;  // epochs completed
  int64_t step_ = 0;   // optimizer steps taken
  // The epoch train_epoch is in: its counts so far (a checkpoint from a step hook carries
  // them) and the data stream before its shuffle. resume_progress_ is a checkpoint's, for the
  // next train_epoch to continue from.
  bool in_epoch_ = false;
  EpochProgress progress_;
  std::array<uint64_t, 4> epoch_rng_{};
  std::optional<EpochProgress> resume_progress_;
};

// The loss a task gets when the recipe says "auto".
std::string default_loss(data::Task task);

// The layer list of the recipe's model: the custom layers, or the built-in one with `outputs`
// logits.
nn::ModelSpec model_spec(const ModelConfig& cfg, int64_t outputs);
// A custom model's sizes left to the data: every embedding's vocab = 0 (or absent) becomes the
// data's vocabulary, and the last layer's out = 0 (a linear) its classes or targets.
nn::ModelSpec resolve_for_data(nn::ModelSpec spec, const data::Dataset& train);

// The trainer's parameters and masks ("mask.<param>", when it has any) as an in-memory
// checkpoint: what the next trainer, surgery or an export starts from.
io::Checkpoint weights_of(const Trainer& t);

}  // namespace sculpt::train
