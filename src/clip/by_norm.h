// Clipping each tensor by its own norm: for every parameter tensor t,
//   f_t = max_norm / (||g_t|| + eps);  g_t <- f_t * g_t  when f_t < 1
// with ||.|| the L2 or the max norm: torch.nn.utils.clip_grad_norm_ called once per parameter
// (the same formula, eps = 1e-6 there). The global norm of all tensors together is in
// by_global_norm.h.
#pragma once

#include <string>

#include "clip/clipper.h"

namespace sculpt::clip {

// The keys of both norm rules; `what` says whose norm max_norm limits.
template <class C>
std::vector<Field<C>> norm_fields(const char* what) {
  return {
      {"max_norm", &C::max_norm, greater_than(0), what},
      {"norm_type", static_cast<NormType C::*>(&C::norm_type),
       "2: Euclidean norm; inf: largest magnitude (torch's norm_type)",
       /*int_as_string=*/true},
      {"eps", &C::eps, at_least(0), "added to the norm in the factor max_norm / (norm + eps)"},
  };
}

// min(1, limit / (norm + eps)) as the float the gradients are multiplied by (torch's
// clip_coef clamped to 1).
inline float norm_factor(double norm, double limit, double eps) {
  const double coef = limit / (norm + eps);
  return coef < 1.0 ? static_cast<float>(coef) : 1.0f;
}

// Scales tensor t of the arena `norms` measured by factors[t] (skipping factors of 1) and
// reports it: the smallest factor, the tensors clipped, the global norms before and after from
// `tensors`, the per-tensor sums of squares. For the rules that clip each tensor on its own.
ClipReport scale_per_tensor(const ArenaNorms& norms, float* g,
                            const std::vector<BlockSums>& tensors,
                            const std::vector<float>& factors);

struct NormConfig {
  double max_norm = 1.0;
  NormType norm_type = NormType::kL2;
  double eps = 1e-6;

  static const std::vector<Field<NormConfig>>& fields();
};

class NormClipper final : public Clipper {
 public:
  explicit NormClipper(NormConfig cfg) : cfg_(std::move(cfg)) {}
  ClipReport apply(ParamStore& ps) override;

 private:
  NormConfig cfg_;
  ArenaNorms norms_;
  std::vector<BlockSums> tensors_;  // per tensor
  std::vector<float> factors_;      // per tensor
};

}  // namespace sculpt::clip
