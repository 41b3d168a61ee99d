// Clipping by the global norm of all gradients together (torch.nn.utils.clip_grad_norm_ over
// every parameter):
//   N = ||(g_1, ..., g_n)||  (L2: sqrt of the sum of every g^2, accumulated in double; inf: max
//   |g|) f = min(1, max_norm / (N + eps));  g <- f * g
// Keeps the direction of the whole update. One parallel region: block sums, the factor, and
// the scaling pass only when f < 1.
#pragma once

#include "clip/by_norm.h"

namespace sculpt::clip {

// The per-tensor rule's options; only what max_norm limits differs, in the docs.
struct GlobalNormConfig : NormConfig {
  static const std::vector<Field<GlobalNormConfig>>& fields();
};

class GlobalNormClipper final : public Clipper {
 public:
  explicit GlobalNormClipper(GlobalNormConfig cfg) : cfg_(std::move(cfg)) {}
  ClipReport apply(ParamStore& ps) override;
  // The L2 norm from the step's measurement: one pass (the scaling) instead of two.
  ClipReport apply_measured(ParamStore& ps, const ArenaNorms& measured) override;

 private:
  float factor(const BlockSums& t) const;
  static ClipReport report(double sumsq, float f);

  GlobalNormConfig cfg_;
  ArenaNorms norms_;
};

}  // namespace sculpt::clip
