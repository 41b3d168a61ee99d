// Global-norm clipping: the benchmarked path (./bench/run clip-global-norm).
#include "clip/by_global_norm.h"

#include <cmath>

namespace sculpt::clip {

const std::vector<Field<GlobalNormConfig>>& GlobalNormConfig::fields() {
  static const auto f =
      norm_fields<GlobalNormConfig>("limit on the norm of all gradients taken together");
  return f;
}

float GlobalNormClipper::factor(const BlockSums& t) const {
  const bool inf = cfg_.norm_type == NormType::kInf;
  return norm_factor(inf ? double(t.maxabs) : std::sqrt(t.sumsq), cfg_.max_norm, cfg_.eps);
}

ClipReport GlobalNormClipper::report(double sumsq, float f) {
  ClipReport r;
  r.norm_before = std::sqrt(sumsq);
  r.scale = f;
  r.norm_after = r.norm_before * f;
  r.clipped = f < 1.0f ? 1 : 0;
  r.clipped_any = r.clipped > 0;
  return r;
}

ClipReport GlobalNormClipper::apply(ParamStore& ps) {
  norms_.prepare(ps);
  double sumsq = 0.0;
  const bool inf = cfg_.norm_type == NormType::kInf;
  const float f = norms_.measure_and_scale(ps.grads().data(), inf, [&](const BlockSums& t) {
    sumsq = t.sumsq;
    return factor(t);
  });
  return report(sumsq, f);
}

ClipReport GlobalNormClipper::apply_measured(ParamStore& ps, const ArenaNorms& measured) {
  if (cfg_.norm_type == NormType::kInf) return apply(ps);  // needs max |g| too
  const BlockSums t = measured.total();
  const float f = factor(t);
  if (f != 1.0f) measured.scale_all(ps.grads().data(), f);
  return report(t.sumsq, f);
}

}  // namespace sculpt::clip
