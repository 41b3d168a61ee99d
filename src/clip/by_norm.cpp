// Per-tensor norm clipping: one measuring pass (sums per block, added per tensor), then one
// scaling pass over the tensors whose factor is below 1.
#include "clip/by_norm.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<NormConfig>>& NormConfig::fields() {
  static const auto f = norm_fields<NormConfig>("limit on each tensor's gradient norm");
  return f;
}

ClipReport scale_per_tensor(const ArenaNorms& norms, float* g,
                            const std::vector<BlockSums>& tensors,
                            const std::vector<float>& factors) {
  ClipReport r;
  double before = 0.0, after = 0.0;
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (factors[t] < 1.0f) {
      r.scale = std::min(r.scale, double(factors[t]));
      ++r.clipped;
    }
    before += tensors[t].sumsq;
    after += tensors[t].sumsq * double(factors[t]) * double(factors[t]);
  }
  if (r.clipped > 0) norms.scale_tensors(g, factors);
  r.norm_before = std::sqrt(before);
  r.norm_after = std::sqrt(after);
  r.clipped_any = r.clipped > 0;
  return r;
}

ClipReport NormClipper::apply(ParamStore& ps) {
  const bool inf = cfg_.norm_type == NormType::kInf;
  norms_.prepare(ps);
  norms_.measure(ps.grads().data(), /*with_max=*/inf);
  norms_.per_tensor(ps.count(), tensors_);
  factors_.assign(ps.count(), 1.0f);
  for (size_t t = 0; t < ps.count(); ++t) {
    const double own = inf ? double(tensors_[t].maxabs) : std::sqrt(tensors_[t].sumsq);
    factors_[t] = norm_factor(own, cfg_.max_norm, cfg_.eps);
  }
  return scale_per_tensor(norms_, ps.grads().data(), tensors_, factors_);
}

}  // namespace sculpt::clip
