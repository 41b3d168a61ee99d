// Global-norm clipping: the benchmarked path (./bench/run clip-global-norm).
#include "clip/by_global_norm.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<GlobalNormConfig>>& GlobalNormConfig::fields() {
  static const auto f =
      norm_fields<GlobalNormConfig>("limit on the norm of all gradients taken together");
  return f;
}

ClipReport GlobalNormClipper::apply(ParamStore& ps) {
  const bool inf = cfg_.norm_type == NormType::kInf;
  norms_.prepare(ps);
  double sumsq = 0.0;
  const float f = norms_.measure_and_scale(ps.grads().data(), inf, [&](const BlockSums& t) {
    sumsq = t.sumsq;
    return norm_factor(inf ? double(t.maxabs) : std::sqrt(t.sumsq), cfg_.max_norm, cfg_.eps);
  });
  ClipReport r;
  r.norm_before = std::sqrt(sumsq);
  r.scale = f;
  r.norm_after = r.norm_before * f;
  r.clipped = f < 1.0f ? 1 : 0;
  r.clipped_any = r.clipped > 0;
  return r;
}

}  // namespace sculpt::clip
