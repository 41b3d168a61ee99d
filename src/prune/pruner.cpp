// The gradual-pruning clock and the criterion's statistic.
#include "prune/pruner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"
#include "prune/select.h"

namespace sculpt::prune {

double ramp(Ramp shape, double x) {
  x = std::clamp(x, 0.0, 1.0);
  switch (shape) {
    case Ramp::kLinear:
      return 1.0 - x;
    case Ramp::kCosine:
      return 0.5 * (1.0 + std::cos(std::numbers::pi * x));
    case Ramp::kExponential: {
      // e^{-5x} rescaled to end exactly at 0: most of the pruning happens early.
      const double floor = std::exp(-5.0);
      return (std::exp(-5.0 * x) - floor) / (1.0 - floor);
    }
    case Ramp::kCubic:
      break;
  }
  const double r = 1.0 - x;
  return r * r * r;
}

Pruner::Pruner(const PruneConfig& cfg, Structure structure, const ParamStore& ps,
               int64_t steps_per_epoch, int64_t total_steps, uint64_t seed)
    : cfg_(cfg), structure_(std::move(structure)) {
  validate(cfg_);
  candidates(structure_, ps, cfg_);  // reject unknown layer names and bad n:m before training
  criterion_ = make_criterion(cfg_.criterion, cfg_.seed ? cfg_.seed : seed);
  if (criterion_->needs() != Needs::kWeights)
    stat_.assign(static_cast<size_t>(ps.arena_size()), 0.0f);
  scores_.assign(static_cast<size_t>(ps.arena_size()), 0.0f);
  const double steps_per_unit =
      double(cfg_.unit == prune::RampUnit::kRun ? total_steps : steps_per_epoch);
  t0_ = std::llround(cfg_.start * steps_per_unit);
  t1_ = cfg_.end > 0 ? std::llround(cfg_.end * steps_per_unit)
                     : std::llround(double(total_steps) * 2.0 / 3.0);
  if (cfg_.when == prune::When::kGradual) {
    SCULPT_CHECK(t0_ < t1_ && t1_ <= total_steps, ConfigError,
                 fmt::format("the ramp from step {} to step {} does not fit in the run's {} steps",
                             t0_, t1_, total_steps),
                 "prune.end",
                 cfg_.unit == prune::RampUnit::kRun
                     ? "train for more steps, or move start and end apart"
                     : "set start < end <= train.epochs, or unit = \"run\" to "
                       "give them as fractions of the run");
  }
}

double Pruner::target(int64_t step) const {
  if (cfg_.when != prune::When::kGradual) return cfg_.sparsity;
  if (step < t0_) return 0.0;
  const double x = double(step - t0_) / double(t1_ - t0_);
  return cfg_.sparsity + (cfg_.initial_sparsity - cfg_.sparsity) * ramp(cfg_.ramp, x);
}

bool Pruner::due(int64_t step) const {
  if (cfg_.when != prune::When::kGradual || step < t0_ || step > t1_) return false;
  return (step - t0_) % cfg_.every == 0 || step == t1_;
}

bool Pruner::observes_steps() const {
  return cfg_.when == prune::When::kGradual && criterion_->needs() != Needs::kWeights;
}

void Pruner::prune(ParamStore& ps, double sparsity, Masks& masks) {
  criterion_->score(ps, stat_, scores_);
  select(structure_, ps, scores_, cfg_, sparsity, masks);
  if (criterion_->needs() == Needs::kGradients) std::fill(stat_.begin(), stat_.end(), 0.0f);
}

}  // namespace sculpt::prune
