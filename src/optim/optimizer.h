// Optimizer: updates the parameter arena from its gradients in one fused pass per element.
// State is a set of named arrays parallel to the arena (checkpointed as "opt.<state>.<param>");
// the step counter lives in the trainer and is passed in, so no optimizer keeps its own count.
//
// Every optimizer shares three options (OptimCommon): lr, weight_decay and decay_style:
//   l2                  g <- g + wd * w before the rule (PyTorch's weight_decay in SGD, Adam, ...)
//   decoupled           w <- w - lr_t * wd * w beside the rule (PyTorch's AdamW)
//   decoupled-schedule  w <- w - (lr_t / lr) * wd * w: the decay follows the schedule's multiplier
//                       but not the base rate (Loshchilov & Hutter, "Decoupled Weight Decay
//                       Regularization", 2019, Algorithm 2)
// Parameter groups ([[optim.groups]]) give tensors their own lr scale, weight decay or freeze
// them; without a group, tensors flagged `decays = false` (biases) get no weight decay.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fields.h"
#include "core/options.h"
#include "core/param_store.h"
#include "core/registry.h"
#include "core/tensor.h"

namespace sculpt {
struct OptimConfig;
class Masks;
}  // namespace sculpt

namespace sculpt::optim {

// How weight decay applies (see above).
enum class DecayStyle { kL2, kDecoupled, kDecoupledSchedule };
inline constexpr Choice<DecayStyle> kDecayStyles[] = {
    {DecayStyle::kL2, "l2"},
    {DecayStyle::kDecoupled, "decoupled"},
    {DecayStyle::kDecoupledSchedule, "decoupled-schedule"}};
constexpr std::span<const Choice<DecayStyle>> choices_of(DecayStyle) { return kDecayStyles; }

// Options every optimizer has; each optimizer's config derives from it and sets its defaults.
struct OptimCommon {
  double lr = 1e-3;
  double weight_decay = 0.0;
  DecayStyle decay_style = DecayStyle::kL2;
};

// The per-tensor settings after parameter groups are applied.
struct TensorSettings {
  double lr_scale = 1.0;
  double weight_decay = 0.0;
  bool frozen = false;
};

// One state array parallel to the arena, e.g. {"exp_avg", buffer}, and the value init() fills
// it with.
struct StateArray {
  std::string name;
  AlignedVector<float>* data;
  float initial = 0.0f;
};

// What the fused kernels need for one tensor in one step.
struct TensorStep {
  double lr = 0.0;    // lr_t * lr_scale
  float l2 = 0.0f;    // added to the gradient: g + l2 * w
  float keep = 1.0f;  // decoupled decay: w <- keep * w before the update
  bool frozen = false;
  // The arena's keep mask (Masks::bytes(), indexed like the arena) when pruning masks this
  // tensor: the fused pass multiplies the updated weights by it. nullptr: no mask.
  const uint8_t* mask = nullptr;
};

// An optimizer declares its state arrays and its momentum coefficient in its constructor
// (add_state, set_momentum_slot) and implements update(); the base sizes, fills, lists and masks
// the arrays. Not copyable: the state list points into the object.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // The registry name ("sgd", "adamw", ...), which checkpoints record.
  std::string_view kind() const { return kind_; }

  // Sizes the state for the arena (resetting it, from the current weights where the state is a
  // copy of them) and sets each tensor's settings; empty
  // `settings` means lr_scale 1, the optimizer's weight decay where ParamFlags::decays.
  // Requires: ps finalized.
  void init(const ParamStore& ps, std::vector<TensorSettings> settings = {});
  // One update of every unfrozen tensor from ps.grads(); `lr` is the scheduled rate, `step`
  // counts updates from 0 (Adam's bias correction uses step + 1). With non-empty `masks` the
  // weights come out multiplied by them (masks.apply_to_weights, fused into the update's pass).
  void step(ParamStore& ps, double lr, int64_t step, const Masks* masks = nullptr);
  // Zeroes every state entry whose mask is 0 (pruned weights keep no momentum).
  void on_mask_change(const Masks& masks);
  // The state arrays, for checkpoints (each the length of the arena), in the order declared.
  const std::vector<StateArray>& state() { return state_; }
  // The coefficient a schedule may cycle inversely to the rate (one-cycle, cyclic): SGD's and
  // RMSprop's momentum when > 0, beta1 of Adam, NAdam and Lion; nullptr when there is none.
  // Read at every step, so writing it between steps takes effect at the next one.
  double* momentum_slot() { return momentum_; }

  double base_lr() const { return common_.lr; }
  const OptimCommon& common() const { return common_; }
  const std::vector<TensorSettings>& settings() const { return settings_; }

 protected:
  Optimizer(std::string kind, OptimCommon common)
      : common_(std::move(common)), kind_(std::move(kind)) {}
  // Declares a state array (only the ones the configuration uses: an unused one stays empty and
  // out of checkpoints); init() sizes it to the arena at `initial`. Constructors only.
  void add_state(std::string name, AlignedVector<float>& data, float initial = 0.0f) {
    state_.push_back({std::move(name), &data, initial});
  }
  void set_momentum_slot(double& coefficient) { momentum_ = &coefficient; }
  // After the state is reset, with the weights the optimizer starts from: for state that starts
  // as a copy of them (Lookahead's slow weights) or caches of the step. Nothing by default.
  virtual void start_state(const ParamStore& ps) { (void)ps; }
  // The fused update; `steps[i]` belongs to ps.entry(i).
  virtual void update(ParamStore& ps, const std::vector<TensorStep>& steps, int64_t step) = 0;

  OptimCommon common_;

 private:
  std::string kind_;
  std::vector<StateArray> state_;
  double* momentum_ = nullptr;
  std::vector<TensorSettings> settings_;
  std::vector<TensorStep> steps_;  // reused every step
};

// The base of an optimizer configured by C (a config deriving from OptimCommon): keeps the
// whole config for update(), and a momentum coefficient in it can be the momentum slot.
template <class C>
class OptimizerWith : public Optimizer {
 protected:
  OptimizerWith(std::string kind, C cfg) : Optimizer(std::move(kind), cfg), cfg_(std::move(cfg)) {}
  C cfg_;
};

// Registry: one row per optimizer, with the documentation `sculpt list optimizers` and
// docs/optimizers.md print.
struct OptimizerInfo {
  std::string name;
  std::string title;             // "Adam"
  std::string rule;              // the update rule, plain text, one formula per line
  std::string paper;             // citation
  std::string example;           // a recipe [optim] table
  std::vector<FieldRow> fields;  // the options with this optimizer's defaults
  // Rates at which the conformance suite's quadratic and Rosenbrock problems converge
  // (tests/conformance/optimizer_conformance_test.cpp says why each value): the suite reads
  // them from here, so a new optimizer needs no edit there.
  double test_lr_quadratic = 0.0, test_lr_rosenbrock = 0.0;
};

const std::vector<OptimizerInfo>& optimizer_infos();
std::vector<std::string> optimizer_names();
// What the recipe reader asks of the optimizers (core/registry.h): their names, an optimizer's
// keys in order, whether it has a key, and any optimizer's spec for a key (to read
// `--set optim.key=text` before the name is final).
const FamilyIndex& optimizer_index();

// Checks cfg.options against the named optimizer and returns every option with its value
// (defaults filled in). Throws ConfigError for an unknown name, key or bad value.
Options resolve_options(const OptimConfig& cfg);
// The base learning rate the recipe gives (optim.lr or the optimizer's default).
double base_lr(const OptimConfig& cfg);

// Builds the optimizer named by cfg.name, applies the parameter groups to `ps` and initialises
// its state. Throws ConfigError for unknown names, bad values and groups matching nothing.
std::unique_ptr<Optimizer> make_optimizer(const OptimConfig& cfg, const ParamStore& ps);

}  // namespace sculpt::optim
