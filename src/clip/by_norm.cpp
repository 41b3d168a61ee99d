// Per-tensor norm clipping: one measuring pass (sums per block, added per tensor), then one
// scaling pass over the tensors whose factor is below 1.
#include "clip/by_norm.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<NormConfig>>& NormConfig::fields() {
  static const auto f = norm_fields<NormConfig>("limit on each tensor's gradient norm");
  return f;
}

ClipReport NormClipper::apply(ParamStore& ps) {
  const bool inf = cfg_.norm_type == "inf";
  norms_.prepare(ps);
  norms_.measure(ps.grads().data(), /*with_max=*/inf);
  norms_.per_tensor(ps.count(), tensors_);
  factors_.assign(ps.count(), 1.0f);
  ClipReport r;
  double before = 0.0, after = 0.0;
  for (size_t t = 0; t < ps.count(); ++t) {
    const double own = inf ? double(tensors_[t].maxabs) : std::sqrt(tensors_[t].sumsq);
    factors_[t] = norm_factor(own, cfg_.max_norm, cfg_.eps);
    if (factors_[t] < 1.0f) {
      r.scale = std::min(r.scale, double(factors_[t]));
      ++r.clipped;
    }
    before += tensors_[t].sumsq;
    after += tensors_[t].sumsq * double(factors_[t]) * double(factors_[t]);
  }
  if (r.clipped > 0) norms_.scale_tensors(ps.grads().data(), factors_);
  r.norm_before = std::sqrt(before);
  r.norm_after = std::sqrt(after);
  r.clipped_any = r.clipped > 0;
  return r;
}

}  // namespace sculpt::clip
