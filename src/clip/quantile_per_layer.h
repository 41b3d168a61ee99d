// quantile-per-layer: AutoClip (autoclip.h) with one history per parameter tensor. Every tensor
// t keeps the L2 norms of its own gradient and is clipped to their p-th percentile, the current
// norm included, on its own:
//   N_t = ||g_t||;  h_t <- h_t + [N_t];  limit_t = percentile_p(h_t)  (numpy's linear)
//   f_t = min(1, limit_t / (N_t + 1e-6));  g_t <- f_t * g_t
// A tensor whose gradient is zero is recorded and left alone. Memory: one double per tensor and
// step with history = 0, else `history` per tensor.
//
// state(), for checkpoints, is flat: {T, n_1, ..., n_T, the n_1 norms of tensor 1 oldest
// first, ..., the n_T norms of tensor T}, with T the number of tensors; {} before the first
// step. set_state() checks that layout and throws NumericError for anything else.
#pragma once

#include <vector>

#include "clip/clipper.h"
#include "clip/norm_history.h"

namespace sculpt::clip {

struct QuantilePerLayerConfig {
  double percentile = 10.0;  // p in (0, 100]
  int64_t history = 0;       // norms kept per tensor (the most recent); 0: all of them

  static const std::vector<Field<QuantilePerLayerConfig>>& fields();
};

class QuantilePerLayerClipper final : public Clipper {
 public:
  explicit QuantilePerLayerClipper(QuantilePerLayerConfig cfg) : cfg_(cfg) {}
  // Throws ShapeError when the histories (from set_state) are of another number of tensors.
  ClipReport apply(ParamStore& ps) override;
  std::vector<double> state() const override;
  void set_state(std::vector<double> state) override;
  // The limit of every tensor at the last apply() (empty before the first).
  const std::vector<double>& last_limits() const { return limits_; }

 private:
  QuantilePerLayerConfig cfg_;
  ArenaNorms norms_;
  std::vector<NormHistory> histories_;  // one per tensor; empty before the first step
  std::vector<BlockSums> tensors_;      // per tensor
  std::vector<float> factors_;          // per tensor
  std::vector<double> limits_;          // per tensor
};

}  // namespace sculpt::clip
