// Pruning criteria: a score per parameter entry, higher = more important (pruned last).
// Criteria that need gradients accumulate a statistic over batches into an array parallel to
// the parameter arena (see Needs); score() then turns weights and statistic into scores.
//
// Registry (criterion.cpp): one row per criterion, listed by `sculpt list criteria`.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/param_store.h"

namespace sculpt::prune {

enum class Needs {
  kWeights,    // the weights alone (magnitude, random)
  kGradients,  // gradients of a few batches of the scoring set (gradient, taylor, snip)
  kTraining,   // gradients of every training step since pruning began (movement)
};

struct CriterionInfo {
  std::string name;  // registry key
  std::string title;
  std::string formula;  // plain text
  std::string paper;
  Needs needs = Needs::kWeights;
};

class Criterion {
 public:
  explicit Criterion(CriterionInfo info) : info_(std::move(info)) {}
  virtual ~Criterion() = default;
  const CriterionInfo& info() const { return info_; }
  Needs needs() const { return info_.needs; }

  // Adds the contribution of the gradients now in ps.grads() (one batch or one step) to `stat`
  // (arena-sized). Does nothing for kWeights criteria.
  virtual void accumulate(const ParamStore& ps, std::span<float> stat) const;
  // Writes one score per arena entry into `out` (arena-sized). `stat` is what accumulate()
  // summed (empty for kWeights criteria).
  virtual void score(const ParamStore& ps, std::span<const float> stat,
                     std::span<float> out) const = 0;

 private:
  CriterionInfo info_;
};

const std::vector<CriterionInfo>& criteria();
std::vector<std::string> criterion_names();
// ConfigError with a "did you mean" hint for an unknown name. `seed` feeds `random`.
std::unique_ptr<Criterion> make_criterion(const std::string& name, uint64_t seed = 0);

}  // namespace sculpt::prune
