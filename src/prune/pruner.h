// Pruning during training: when the mask changes and to what sparsity. Gradual pruning follows
// Zhu & Gupta 2017: s_t = s_f + (s_i - s_f) * ramp((t - t0) / (n dt)) with the cubic ramp
// (1 - x)^3 by default, the mask updated every dt = `every` steps from t0 to t0 + n dt. SNIP
// prunes once before the first step, at-end once after the last. The Pruner also holds the
// gradient statistic of criteria that need one (see Needs) between mask updates.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/masks.h"
#include "core/param_store.h"
#include "core/tensor.h"
#include "prune/config.h"
#include "prune/criterion.h"
#include "prune/structure.h"

namespace sculpt::prune {

class Pruner {
 public:
  // `seed` feeds the random criterion when cfg.seed is 0. Throws ConfigError for bad
  // combinations (validate) or layer names (candidates).
  Pruner(const PruneConfig& cfg, Structure structure, const ParamStore& ps, int64_t steps_per_epoch,
         int64_t total_steps, uint64_t seed);

  const PruneConfig& config() const { return cfg_; }
  const Criterion& criterion() const { return *criterion_; }
  // First and last step (in steps done) of the gradual ramp.
  int64_t begin_step() const { return t0_; }
  int64_t end_step() const { return t1_; }

  // The ramp's target after `step` steps (gradual); cfg.sparsity otherwise.
  double target(int64_t step) const;
  // Whether gradual pruning updates the mask once `step` steps are done.
  bool due(int64_t step) const;
  // Whether observe() should see every training step's gradients.
  bool observes_steps() const;
  // Adds the gradients now in ps.grads() to the statistic (a step, or a scoring batch).
  void observe(const ParamStore& ps) { criterion_->accumulate(ps, stat_); }
  // Scores with the criterion and the statistic, prunes to `sparsity` (select()), then clears
  // the statistic unless the criterion accumulates over the whole run (movement).
  void prune(ParamStore& ps, double sparsity, Masks& masks);
  // The statistic, for checkpoints (arena-sized; empty for criteria without one).
  AlignedVector<float>& stat() { return stat_; }

 private:
  PruneConfig cfg_;
  Structure structure_;
  std::unique_ptr<Criterion> criterion_;
  AlignedVector<float> stat_, scores_;
  int64_t t0_ = 0, t1_ = 0;
};

// The ramp shape at x in [0, 1]: 1 at 0, 0 at 1.
double ramp(Ramp shape, double x);

}  // namespace sculpt::prune
